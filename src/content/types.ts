// The shape of messages/ once loaded and validated. Program content is data, reviewed by
// non-engineers; code refers to steps and system messages only by key.

export type StepKind = 'nudge' | 'checkin';

export interface ProgramStep {
  /** e.g. "w3-d5": unique within the program, stable forever (message rows refer to it). */
  key: string;
  week: number; // 1-based
  /** Days after the enrollment's start day (0 = the day they confirm). */
  day: number;
  /** Local wall-clock time "HH:MM" in the subscriber's zone. */
  at: string;
  kind: StepKind;
}

export interface EmailTemplate {
  subject: string;
  /** The one-line preview shown by mail clients after the subject. */
  preheader: string;
  /** Markdown body; rendered to text and HTML. */
  markdown: string;
}

/** One locale's texts: keyed by step key and by system message key. */
export interface LocaleTexts {
  /** A step with variants has its first variant (by name) here too, so readers that know
   * nothing of experiments still find one text per key. */
  sms: Record<string, string>;
  email: Record<string, EmailTemplate>;
  /** Experiments: per channel, step key -> variant name -> its content and weight. */
  variants?: StepVariants;
}

/** A step's variants (an experiment), as written in sms.yaml (`variants:`) and as email files
 * named `<step>.<variant>.md`; src/core/experiments.ts chooses between them. */
export interface StepVariants {
  sms: Record<string, Record<string, { text: string; weight: number }>>;
  email: Record<string, Record<string, { template: EmailTemplate; weight: number }>>;
}

export interface Program {
  key: string;
  /** Neutral name shown to subscribers (lock screens, sender names): never names the topic. */
  name: string;
  weeks: number;
  defaultLocale: string;
  steps: ProgramStep[];
  /** Step added early for a person after two low ratings in a row (week-7 self-care). */
  lowRatingStep?: string;
  /** Words that join this program, per locale (program.yaml `keywords:`). */
  keywords: Record<string, string[]>;
  /** One line per locale for the sign-up page (program.yaml `description:`). */
  description?: Record<string, string>;
  locales: Record<string, LocaleTexts>;
}

/** Carrier and program keywords, per locale. Whole-message matches only. */
export interface KeywordSet {
  stop: string[];
  start: string[];
  help: string[];
  pause: string[];
  resume: string[];
  yes: string[];
  join: string[];
  /** Asks for the private support options (the `ask` check-in offers it). */
  safe: string[];
  /** Phrases that mean stop even though they are not one word, e.g. "stop texting me". */
  stopPhrases: string[];
  /** Words that ask how to change language ("idioma", "language"). */
  language: string[];
  /** Names of this locale's language ("espanol", "spanish"): switch to it. */
  languageName: string[];
}

export type SafetyCategory = 'abuse' | 'self_harm';

export interface SafetyResources {
  /** Plain-text lines, e.g. "National Domestic Violence Hotline: call 1-800-799-7233". */
  abuse: string[];
  self_harm: string[];
  emergency: string;
  /** The same lines worded for one locale ("es"), chosen by the subscriber's language. */
  locales?: Record<string, { abuse: string[]; self_harm: string[]; emergency?: string }>;
}

/** The terms and privacy pages as the organisation wrote them: Markdown with placeholders
 * ({{programName}}, {{supportContact}}, ...; see LEGAL_PLACEHOLDERS), filled from config when
 * the page is served. */
export interface LegalTexts {
  terms: string;
  privacy: string;
}

export interface Content {
  programs: Record<string, Program>;
  keywords: Record<string, KeywordSet>; // by locale: "en", "es"
  /** messages/safety.yaml as parsed (phrases and resources; compiled by src/core/safety.ts). */
  safety: unknown;
  /** By ISO country code; "default" is used when a country has none. */
  resources: Record<string, SafetyResources>;
  /** messages/legal/terms.md and privacy.md. */
  legal: LegalTexts;
  /** messages/legal/<locale>/*.md, by locale ("es"); English is `legal`. */
  legalLocales: Record<string, LegalTexts>;
  /** messages/pages/<locale>.yaml: the web pages' words, by locale, then key. */
  pages: Record<string, Record<string, string>>;
}
