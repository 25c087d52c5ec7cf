// The data of each event type, built from rows the emitting flow already holds. Contacts are
// masked here (maskPhone/maskEmail); an endpoint with includeContacts gets the full one at
// delivery time instead (deliver.ts).
import type { Channel } from '../db/client.ts';
import { maskEmail, maskPhone } from '../channels/mask.ts';
import type { EventInput, EventType } from './events.ts';

export function maskedContact(s: { phone?: string | null; email?: string | null }): string | null {
  if (s.phone) return maskPhone(s.phone);
  if (s.email) return maskEmail(s.email);
  return null;
}

/** A contact of either kind (an outbound message's toAddr), masked. */
export function maskAddress(addr: string | null | undefined): string | null {
  if (!addr) return null;
  return addr.includes('@') ? maskEmail(addr) : maskPhone(addr);
}

export interface SubscriberRef {
  id: string;
  phone?: string | null;
  email?: string | null;
}

export interface EnrollmentRef {
  id: string;
  program: string;
  channel: Channel;
  state?: string;
}

/** An event about a subscriber (and their enrollment, when there is one). */
export function subscriberEvent(
  type: EventType,
  sub: SubscriberRef,
  enrollment: EnrollmentRef | null | undefined,
  at: Date,
  extra: Record<string, unknown> = {},
): EventInput {
  return {
    type,
    subscriberId: sub.id,
    at,
    data: {
      subscriberId: sub.id,
      enrollmentId: enrollment?.id ?? null,
      program: enrollment?.program ?? null,
      channel: enrollment?.channel ?? (sub.phone ? 'sms' : sub.email ? 'email' : null),
      contact: maskedContact(sub),
      at: at.toISOString(),
      ...extra,
    },
  };
}
