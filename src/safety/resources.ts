// Stage 5 of the safety screen: where to send a person for help. The lines are data
// (messages/safety.yaml `resources`, by ISO country code), never hard-coded in logic.
import type { SafetyResources } from '../content/types.ts';

/** The resources for a country ("US", "us"), falling back to "default"; undefined if neither. */
export function resourcesFor(
  resources: Readonly<Record<string, SafetyResources>>,
  country: string | null | undefined,
): SafetyResources | undefined {
  const byCountry = country ? resources[country.toUpperCase()] : undefined;
  return byCountry ?? resources.default;
}
