// Stage 5 of the safety screen: where to send a person for help. The lines are data
// (messages/safety.yaml `resources`, by ISO country code), never hard-coded in logic.
import type { SafetyResources } from '../content/types.ts';

/** The resources for a country ("US", "us"), falling back to "default"; undefined if neither.
 * With a locale, the lines worded for it (`locales: { es: ... }`) when the entry has them. */
export function resourcesFor(
  resources: Readonly<Record<string, SafetyResources>>,
  country: string | null | undefined,
  locale?: string | null,
): SafetyResources | undefined {
  const byCountry = country ? resources[country.toUpperCase()] : undefined;
  const entry = byCountry ?? resources.default;
  const worded = locale ? entry?.locales?.[locale] : undefined;
  if (!entry || !worded) return entry;
  return { ...entry, ...worded, emergency: worded.emergency ?? entry.emergency };
}
