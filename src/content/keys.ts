// The message keys and placeholders the code relies on. Content may add texts, but these must
// exist: the service sends them by key.

/** System messages every locale must have as SMS. */
export const SMS_SYSTEM_KEYS = [
  'optin_confirm',
  'welcome',
  'help',
  'stop_confirm',
  'start_confirm',
  'pause_confirm',
  'pause_days_confirm',
  'resume_confirm',
  'how_to_join',
  'settings_confirm',
  'ack_low',
  'ack_mid',
  'ack_high',
  'ack_text',
  'checkin_reminder',
  'safety_check',
  'safety_abuse',
  'safety_self_harm',
  'program_complete',
] as const;

/** System messages every locale must have as email. */
export const EMAIL_SYSTEM_KEYS = [
  'confirm_email',
  'welcome',
  'checkin_reminder',
  'safety_check',
  'safety_abuse',
  'safety_self_harm',
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

/** Words that must not appear in the lock-screen preview (first line) of an SMS. */
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
] as const;
