// The message keys and placeholders the code relies on. Content may add texts, but these must
// exist: the service sends them by key.

/** System messages an answer to a person's own message may send, on whichever channel their
 * message came in (core/decide.ts and flows/enroll.ts): each must exist as SMS and as email, or a
 * HELP or STOP by email would go unanswered. */
export const REPLY_SYSTEM_KEYS = [
  'optin_confirm',
  'welcome',
  'help',
  'stop_confirm',
  'start_confirm',
  'pause_confirm',
  'pause_days_confirm',
  'resume_confirm',
  'settings_confirm',
  'optout_clarify',
  'ack_low',
  'ack_mid',
  'ack_high',
  'ack_text',
  'safety_check',
  'safety_abuse',
  'safety_self_harm',
  // LANGUAGE / IDIOMA: how to choose (sent in the other language), and the switch confirmed (in
  // the new one).
  'language_menu',
  'language_confirm',
] as const;

/** System messages every locale must have as SMS. */
export const SMS_SYSTEM_KEYS = [
  ...REPLY_SYSTEM_KEYS,
  // Only a number we do not know gets this, and only SMS reaches us from strangers.
  'how_to_join',
  'checkin_reminder',
  'program_complete',
] as const;

/** System messages every locale must have as email. */
export const EMAIL_SYSTEM_KEYS = [
  ...REPLY_SYSTEM_KEYS,
  'confirm_email',
  'checkin_reminder',
  'program_complete',
] as const;

/** System emails used when present. */
export const OPTIONAL_EMAIL_SYSTEM_KEYS = ['unsubscribed'] as const;

export type SmsSystemKey = (typeof SMS_SYSTEM_KEYS)[number];
export type EmailSystemKey =
  (typeof EMAIL_SYSTEM_KEYS)[number] | (typeof OPTIONAL_EMAIL_SYSTEM_KEYS)[number];

/** Placeholders any text may use; the sender always has a value for each (see vars.ts). */
export const GENERAL_PLACEHOLDERS = [
  'name',
  'programName',
  'weeks',
  'perWeek',
  'unsubscribeUrl',
  'resources',
  'emergency',
  // From config: SUPPORT_CONTACT, and PUBLIC_URL + /terms, /privacy.
  'supportContact',
  'termsUrl',
  'privacyUrl',
] as const;

/** Placeholders that only make sense in one message: the sender fills them only there. */
export const KEYED_PLACEHOLDERS: Readonly<Record<string, readonly string[]>> = {
  confirmUrl: ['confirm_email'],
  days: ['pause_days_confirm'],
  setting: ['settings_confirm'],
};

/** Placeholders only an email can fill (the SMS sender has no per-person link). */
export const EMAIL_ONLY_PLACEHOLDERS: readonly string[] = ['unsubscribeUrl', 'confirmUrl'];

export const KNOWN_PLACEHOLDERS: readonly string[] = [
  ...GENERAL_PLACEHOLDERS,
  ...Object.keys(KEYED_PLACEHOLDERS),
];

/** The legal pages (messages/legal/*.md) and the placeholders they may use, all filled from
 * configuration when a page is served (src/http/legal-pages.ts). */
export const LEGAL_FILES = ['terms', 'privacy'] as const;
export const LEGAL_PLACEHOLDERS: readonly string[] = [
  'programName',
  'supportContact',
  'postalAddress',
  'publicUrl',
  'termsUrl',
  'privacyUrl',
  'retentionDays',
];

/** Words that must not appear in the lock-screen preview (first line) of an SMS, in every
 * locale: matched as parts of words, so "celos" also catches "celoso" and "violen" both forms. */
export const LOCK_SCREEN_WORDS = [
  'abuse',
  'abusive',
  'violence',
  'violent',
  'danger',
  'safety',
  'unsafe',
  'trust issues',
  'partner',
  'hotline',
  'suicide',
  'crisis',
  'control',
  'jealous',
  'cheat',
  // Spanish
  'abuso',
  'abusiv',
  'maltrat',
  'violen',
  'peligro',
  'seguridad',
  'pareja',
  'problemas de confianza',
  'suicid',
  'celos',
  'engañ',
] as const;
