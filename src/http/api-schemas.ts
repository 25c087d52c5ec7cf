// The HTTP contract of the routes other programs call: the operator's JSON API (/admin/api), the
// email sign-up (POST /subscribe) and the two inbound webhooks (Twilio's SMS and status callbacks,
// and inbound email). Each route's request and response schemas are declared here once, in zod:
// the routes attach them (`routeOptions`: Fastify validates requests and serializes JSON answers
// through fastify-type-provider-zod, so an answer holds exactly the declared fields), and
// `openApiDocument()` turns the same table into the OpenAPI 3.1 document that
// `npm run cli -- openapi` prints and GET /admin/api/openapi.json serves. The document cannot
// drift from the code: tests/foundation/openapi.test.ts checks that every such route is in it and
// that real answers validate against it.
//
// Where a route must check something before its body (a webhook's signature, a sign-up's rate
// limit), the body is not refused by Fastify: the route reads `req.validationError`
// (`attachValidation`) or applies the schema itself, in its own order, with its own answers.
// Control characters are refused before any of this (input.ts, a preValidation hook).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  Channel,
  ConsentKind,
  Direction,
  EnrollmentState,
  FlagStatus,
  MessageKind,
  MessageStatus,
  SafetyCategory,
  SubscriberStatus,
} from '../generated/prisma/enums.ts';
import { EXPORT_FORMATS } from '../core/export-format.ts';
import { ROOT } from '../paths.ts';
import { EVENT_TYPES } from '../webhooks/events.ts';

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** A time: a Date in the code, an ISO 8601 string (UTC, milliseconds) on the wire. */
const time = () => z.date();
const uuid = (what: string) => z.string().meta({ format: 'uuid' }).describe(what);

/** Every JSON refusal: a stable code and a sentence for a person. */
export const ApiError = z
  .object({
    error: z.string().describe('A stable code: not_found, invalid_phone, rate_limited, ...'),
    message: z.string().describe('What went wrong, for a person to read.'),
  })
  .meta({ title: 'Error' });

const json = <S extends z.ZodType>(description: string, schema: S) => ({
  description,
  content: { 'application/json': schema },
});
const text = (description: string) => ({
  description,
  content: { 'text/plain': z.string() },
});
const retryAfter = { 'Retry-After': 'Seconds to wait before trying again.' };

// ---------------------------------------------------------------------------------------------
// The operator's JSON API

export const EnrollmentView = z.object({
  id: uuid('The enrollment id.'),
  program: z.string().describe('The program key (messages/).'),
  channel: z.enum(Channel),
  state: z.enum(EnrollmentState),
  nextStep: z.string().nullable().describe('The next program step to send, if any.'),
  nextRunAt: time().nullable().describe('When that step is due.'),
  pausedUntil: time().nullable().describe('A PAUSE ends by itself at this time.'),
});

export const FlagView = z.object({
  id: uuid('The safety flag id.'),
  category: z.enum(SafetyCategory),
  matched: z
    .array(z.string())
    .describe('Which rules or model signals raised it (never the words).'),
  status: z.enum(FlagStatus),
  createdAt: time(),
});

export const ConsentView = z.object({
  kind: z.enum(ConsentKind),
  channel: z.enum(Channel),
  source: z.string().describe('sms_keyword, web_form, confirm_link, cli, operator, carrier, ...'),
  at: time(),
});

export const MessageView = z.object({
  id: uuid('The message id.'),
  direction: z.enum(Direction),
  channel: z.enum(Channel),
  kind: z.enum(MessageKind),
  step: z.string().nullable().describe('The program step of a nudge or check-in.'),
  template: z.string().nullable().describe('Which content was sent (a step or system key).'),
  status: z.enum(MessageStatus),
  createdAt: time(),
  sentAt: time().nullable(),
  body: z
    .string()
    .nullable()
    .optional()
    .describe('Outbound text only: a reply is the person’s own and never in this answer.'),
});

export const SubscriberView = z
  .object({
    id: uuid('The subscriber id.'),
    phone: z.string().nullable().describe('E.164, for SMS subscribers.'),
    email: z.string().nullable().describe('Lower-cased, for email subscribers.'),
    timezone: z.string().describe('IANA zone, e.g. America/Chicago.'),
    status: z.enum(SubscriberStatus),
    createdAt: time(),
    enrollments: z.array(EnrollmentView),
    flags: z.array(FlagView).describe('Newest first.'),
    consents: z.array(ConsentView).describe('Oldest first: the consent record.'),
    messages: z.array(MessageView).describe('Oldest first, at most 500.'),
  })
  .meta({ title: 'Subscriber' });

const count = () => z.number().int().min(0);

export const ProgramFiguresView = z
  .object({
    program: z.string().describe('The program key (its folder in messages/).'),
    name: z.string().describe('Its neutral name, as subscribers see it.'),
    enrollments: z
      .object({
        pending: count(),
        active: count(),
        paused: count(),
        safety_hold: count(),
        completed: count(),
        stopped: count(),
      })
      .describe('Enrollments by state.'),
    sent: count().describe('Program messages (steps) sent in the last 90 days.'),
    delivered: count(),
    failed: count(),
    checkinsAsked: count().describe('Check-ins closed or answered.'),
    checkinsAnswered: count(),
    meanRating: z.number().nullable().describe('Mean check-in rating, 1 to 5; null: none yet.'),
  })
  .meta({ title: 'ProgramFigures' });

export const OptOutQueryView = z.object({
  id: uuid('The opt-out question id.'),
  subscriberId: uuid('Whose reply it was.'),
  messageId: uuid('The reply that may have asked to stop.'),
  channel: z.enum(Channel),
  rule: z.string().describe('Which rule found it (core/revocation.ts), never the words.'),
  createdAt: time(),
  ageBusinessDays: z.number().int(),
  settleBy: time().describe('When Steady settles it by itself if nobody has.'),
  dueBy: time().describe('The legal limit (10 business days).'),
  resolution: z.string().nullable().describe('opted_out or kept, once settled.'),
  resolvedAt: time().nullable(),
  resolvedBy: z.string().nullable(),
  subscriberStatus: z.enum(SubscriberStatus),
});

export const OPERATOR_ACTIONS = ['pause', 'resume', 'stop', 'clear-hold'] as const;

export const OperatorMessageBody = z
  .object({
    channel: z.enum(['sms', 'email']).describe('One of the person’s enrolled channels.'),
    text: z
      .string()
      .max(20_000)
      .describe(
        'The message as written. Control characters are removed and surrounding blank lines ' +
          'trimmed; SMS at most 3 segments, email at most 4000 characters; the first line ' +
          '(shown on a lock screen) may not hold a word like abuse, danger or partner.',
      ),
    template: z
      .string()
      .max(60)
      .optional()
      .describe('The starting text it was written from (operator.yaml key), for the audit event.'),
    idempotencyKey: z
      .string()
      .optional()
      .describe(
        '8-64 letters, digits, - or _: the same key for the same person sends once (a retry ' +
          'answers created: false with the first message’s id).',
      ),
  })
  .meta({ title: 'OperatorMessage' });

export const OperatorMessageAccepted = z
  .object({
    ok: z.literal(true),
    messageId: uuid('The outbound message (kind system, template operator).'),
    created: z.boolean().describe('False when the idempotency key had already sent it.'),
    timing: z
      .enum(['now', 'answering', 'held'])
      .describe(
        'now: outside the person’s quiet hours; answering: in them, but it answers their own ' +
          'message of the last hour; held: it waits until their quiet hours end.',
      ),
    heldUntil: time().nullable().describe('When a held message goes out.'),
    segments: z.number().int().nullable().describe('SMS segments; null for email.'),
  })
  .meta({ title: 'OperatorMessageAccepted' });
export const OPTOUT_RESOLUTIONS = ['opted_out', 'kept'] as const;

/** Answers every admin API route can give besides its own. */
const ADMIN_COMMON = {
  400: json(
    'Refused input: a control character (invalid_characters) or a value of the wrong type ' +
      '(invalid_request), or the route’s own reason below.',
    ApiError,
  ),
  401: {
    ...json('No credentials, or not ADMIN_TOKEN (unauthorized).', ApiError),
    headers: { 'WWW-Authenticate': 'Bearer' },
  },
  429: {
    ...json('Too many wrong tokens from this client (rate_limited).', ApiError),
    headers: retryAfter,
  },
  500: json('Our own trouble (internal).', ApiError),
};

// ---------------------------------------------------------------------------------------------
// The email sign-up

export const SignupBody = z
  .object({
    email: z.string().describe('The address to send the course to.'),
    firstName: z.string().optional().describe('Optional, under 60 characters.'),
    timezone: z
      .string()
      .optional()
      .describe('IANA zone such as America/Chicago; empty or absent: DEFAULT_TIMEZONE.'),
    program: z
      .string()
      .optional()
      .describe('A live program (PROGRAMS), e.g. calm; empty or absent: the default program.'),
    language: z
      .string()
      .optional()
      .describe("A language of that program, e.g. es; empty or absent: the program's default."),
  })
  .meta({ title: 'Signup' });

export const SignupRefusal = ApiError.extend({
  field: z
    .enum(['email', 'firstName', 'timezone', 'program', 'language'])
    .optional()
    .describe(
      'The field to correct (invalid_email, invalid_firstName, invalid_timezone, invalid_program, invalid_language).',
    ),
});

export const RateLimited = ApiError.extend({
  retryAfter: z.number().int().describe('Seconds to wait.'),
});

const html = (description: string) => ({ 'text/html': z.string().describe(description) });

// ---------------------------------------------------------------------------------------------
// The webhooks

const twilioField = (what: string) => z.string().optional().describe(what);

/** Twilio's inbound-message form. Every field is a string; Twilio adds more than these (FromCity,
 * NumSegments, ...), all covered by the signature. A field missing or malformed is not refused:
 * the message is ignored (an empty TwiML answer), since Twilio cannot bounce it to the person. */
export const TwilioInboundSms = z
  .object({
    MessageSid: twilioField('Twilio’s message id (SM...).'),
    SmsSid: twilioField('The older name of MessageSid.'),
    AccountSid: twilioField('The Twilio account (AC...).'),
    MessagingServiceSid: twilioField('The messaging service, if one received it.'),
    From: twilioField('The sender, E.164.'),
    To: twilioField('Our number, E.164.'),
    Body: twilioField('The text, at most 1600 characters (control characters are removed).'),
    NumMedia: twilioField('How many media items came with it.'),
  })
  .catchall(z.string())
  .meta({ title: 'TwilioInboundSms' });

/** Twilio's status callback form (StatusCallback URL of a message we sent). */
export const TwilioStatusCallback = z
  .object({
    MessageSid: twilioField('Twilio’s message id (SM...).'),
    MessageStatus: twilioField('queued, sending, sent, delivered, undelivered, failed, ...'),
    SmsStatus: twilioField('The older name of MessageStatus.'),
    ErrorCode: twilioField('Twilio’s error code, for undelivered and failed.'),
    AccountSid: twilioField('The Twilio account (AC...).'),
    From: twilioField('Our number, E.164.'),
    To: twilioField('The recipient, E.164.'),
  })
  .catchall(z.string())
  .meta({ title: 'TwilioStatusCallback' });

export const TwilioStatusQuery = z.object({
  m: z
    .string()
    .optional()
    .describe('Our message id (a UUID), set on the StatusCallback URL we gave Twilio.'),
});

/** Inbound email from a provider that turns mail into HTTP (the raw body is what is signed). */
export const InboundEmail = z
  .looseObject({
    from: z.string().describe('The From header: "Jane <jane@example.org>" or an address.'),
    to: z
      .union([z.string(), z.array(z.string())])
      .describe('The recipient address(es): our reply+<token>@REPLY_DOMAIN address.'),
    subject: z.string().nullable().optional(),
    text: z.string().describe('The text part as received, quotes included.'),
    messageId: z
      .string()
      .nullable()
      .optional()
      .describe('The Message-ID: a replay of the same one is recorded once.'),
    authenticationResults: z
      .union([z.string(), z.array(z.string())])
      .nullable()
      .optional()
      .describe(
        'The Authentication-Results header value(s) the provider added, topmost first. A DMARC ' +
          'fail records the reply without acting on it; absent: no verdict.',
      ),
  })
  .meta({ title: 'InboundEmail' });

export const Ok = z.object({ ok: z.literal(true) });

// ---------------------------------------------------------------------------------------------
// The route table

type MediaTypes = Record<string, z.ZodType>;

interface ResponseSpec {
  description: string;
  /** Header name to description. */
  headers?: Record<string, string>;
  /** Media type to schema; none for an empty answer. */
  content?: MediaTypes;
}

/** The answer Fastify gives when a part fails its schema: a status, a code and a sentence. */
interface Refusal {
  status: number;
  error: string;
  message: string;
}

type Part = 'params' | 'querystring' | 'body';

export interface RouteContract {
  method: 'GET' | 'POST' | 'DELETE';
  /** As registered with Fastify, prefix included (`:id` for a path parameter). */
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: 'admin' | 'signup' | 'webhooks';
  security: 'adminToken' | 'twilioSignature' | 'inboundEmailSignature' | null;
  params?: z.ZodObject;
  querystring?: z.ZodObject;
  body?: {
    required: boolean;
    content: MediaTypes;
    /** fastify: Fastify validates it (the schema of the first media type, whatever the
     * request's type); handler: the route checks it itself, after what must come first. */
    checkedBy: 'fastify' | 'handler';
  };
  /** The answer when a part fails its schema, where it is not the generic invalid_request. */
  refuse?: Partial<Record<Part, Refusal>>;
  responses: Record<number, ResponseSpec>;
}

const adminRoutes = {
  listSubscribers: {
    method: 'GET',
    url: '/admin/api/subscribers',
    operationId: 'findSubscriber',
    summary: 'Find a subscriber by exact phone number or email address',
    description:
      'Give one of phone or email. The answer never holds reply text; it leaves an audit event.',
    tag: 'admin',
    security: 'adminToken',
    querystring: z.object({
      phone: z.string().optional().describe('A phone number, e.g. +12025550123.'),
      email: z.string().optional().describe('An email address (used when phone is absent).'),
    }),
    responses: {
      200: json('The subscriber.', SubscriberView),
      ...ADMIN_COMMON,
      400: json(
        'missing_query, invalid_phone, invalid_email; or invalid_characters, invalid_request.',
        ApiError,
      ),
      404: json('No subscriber with that contact (not_found).', ApiError),
    },
  },
  getSubscriber: {
    method: 'GET',
    url: '/admin/api/subscribers/:id',
    operationId: 'getSubscriber',
    summary: 'A subscriber by id',
    description: 'The answer never holds reply text; it leaves an audit event.',
    tag: 'admin',
    security: 'adminToken',
    params: z.object({ id: uuid('The subscriber id.') }),
    responses: {
      200: json('The subscriber.', SubscriberView),
      ...ADMIN_COMMON,
      404: json('No subscriber with that id (not_found).', ApiError),
    },
  },
  subscriberAction: {
    method: 'POST',
    url: '/admin/api/subscribers/:id/:action',
    operationId: 'subscriberAction',
    summary: 'Pause, resume, stop, or clear a safety hold',
    description: 'Recorded as an audit event, and as a consent event where consent changes.',
    tag: 'admin',
    security: 'adminToken',
    params: z.object({
      id: uuid('The subscriber id.'),
      action: z.enum(OPERATOR_ACTIONS),
    }),
    refuse: {
      params: {
        status: 404,
        error: 'unknown_action',
        message: `Actions: ${OPERATOR_ACTIONS.join(', ')}`,
      },
    },
    responses: {
      200: json(
        'Done: the enrollment’s state now.',
        z.object({ ok: z.literal(true), state: z.string() }),
      ),
      ...ADMIN_COMMON,
      404: json('No subscriber with that id (not_found), or unknown_action.', ApiError),
      409: json('Not possible in the enrollment’s state (not_active, not_paused).', ApiError),
    },
  },
  sendMessage: {
    method: 'POST',
    url: '/admin/api/subscribers/:id/messages',
    operationId: 'sendOperatorMessage',
    summary: 'Send one SMS or email an operator wrote',
    description:
      'Queued on the priority lane through the same consent checks as every send (never to a ' +
      'stopped, unconfirmed or erased person; re-checked right before the provider call). In ' +
      'the person’s quiet hours it waits until they end, unless it answers their own message of ' +
      'the last hour. Recorded as an outbound message (kind system, template operator) and an ' +
      'audit event message.send (actor api-token; never the text).',
    tag: 'admin',
    security: 'adminToken',
    params: z.object({ id: uuid('The subscriber id.') }),
    body: {
      required: true,
      checkedBy: 'fastify',
      content: { 'application/json': OperatorMessageBody },
    },
    refuse: {
      body: {
        status: 400,
        error: 'bad_message',
        message: 'Send {"channel": "sms" or "email", "text": "..."}',
      },
    },
    responses: {
      202: json(
        'Queued (or, with a known idempotency key, already queued).',
        OperatorMessageAccepted,
      ),
      ...ADMIN_COMMON,
      400: json(
        'empty_text, too_long, lock_screen_word, bad_idempotency_key, bad_message; or ' +
          'invalid_characters, invalid_request.',
        ApiError,
      ),
      404: json('No subscriber with that id (not_found).', ApiError),
      409: json(
        'The person may not be written to: stopped, not_confirmed, no_channel, ' +
          'channel_not_enrolled.',
        ApiError,
      ),
    },
  },
  listOptOutQueries: {
    method: 'GET',
    url: '/admin/api/optout-queries',
    operationId: 'listOptOutQueries',
    summary: 'Replies that may have asked to stop',
    description: 'Ids, ages and deadlines only; open ones oldest first (nearest deadline on top).',
    tag: 'admin',
    security: 'adminToken',
    querystring: z.object({
      status: z
        .enum(['open', 'settled'])
        .optional()
        .describe('open (the default) or settled (newest first).'),
    }),
    responses: {
      200: json('At most 200.', z.object({ queries: z.array(OptOutQueryView) })),
      ...ADMIN_COMMON,
    },
  },
  resolveOptOutQuery: {
    method: 'POST',
    url: '/admin/api/optout-queries/:id',
    operationId: 'resolveOptOutQuery',
    summary: 'Settle an opt-out question',
    description: 'opted_out records the opt-out and sends its confirmation; kept leaves it.',
    tag: 'admin',
    security: 'adminToken',
    params: z.object({ id: uuid('The opt-out question id.') }),
    body: {
      required: true,
      checkedBy: 'fastify',
      content: {
        'application/json': z.object({ resolution: z.enum(OPTOUT_RESOLUTIONS) }),
        'application/x-www-form-urlencoded': z.object({ resolution: z.enum(OPTOUT_RESOLUTIONS) }),
      },
    },
    refuse: {
      body: {
        status: 400,
        error: 'bad_resolution',
        message: 'Send {"resolution": "opted_out"} or {"resolution": "kept"}',
      },
    },
    responses: {
      200: json(
        'Settled.',
        z.object({ ok: z.literal(true), resolution: z.enum(OPTOUT_RESOLUTIONS) }),
      ),
      ...ADMIN_COMMON,
      400: json('bad_resolution; or invalid_characters, invalid_request.', ApiError),
      404: json('No opt-out question with that id (not_found).', ApiError),
      409: json('Already settled (already_resolved).', ApiError),
    },
  },
  exportCheckins: {
    method: 'GET',
    url: '/admin/api/export/checkins',
    operationId: 'exportCheckins',
    summary: 'Check-in results: one row per check-in sent, pseudonymous',
    description:
      'Columns: subscriber (a keyed hash of the subscriber id, for exports only; never a ' +
      'contact), program, locale, variant, week, step, sent_at, answered_at (ISO 8601, UTC), ' +
      'rating (empty or null when none), answered, opted_out_48h (an opt-out on the ' +
      'enrollment’s channel within 48 hours after the check-in was sent). CSV (RFC 4180, a ' +
      'header row) or JSON Lines with the same keys, oldest check-in first, streamed as an ' +
      'attachment. No reply text. Leaves an audit event (filters and row count).',
    tag: 'admin',
    security: 'adminToken',
    querystring: z.object({
      format: z.enum(EXPORT_FORMATS).describe('csv or jsonl.'),
      program: z
        .string()
        .optional()
        .describe('Only this program (the enrollment’s program key); empty: every program.'),
      since: z
        .string()
        .optional()
        .describe(
          'Only check-ins sent at or after: YYYY-MM-DD (UTC midnight) or an ISO 8601 time ' +
            'with a zone; empty: all.',
        ),
    }),
    responses: {
      200: {
        description: 'The rows, streamed.',
        headers: { 'Content-Disposition': 'attachment; filename="steady-checkins....csv"' },
        content: {
          'text/csv': z.string().describe('A header row, then one row per check-in (CRLF).'),
          'application/x-ndjson': z.string().describe('One JSON object per line.'),
        },
      },
      ...ADMIN_COMMON,
      400: json(
        'invalid_since, unknown_program (the message lists the known ones); invalid_request ' +
          '(format missing or not csv or jsonl), invalid_characters.',
        ApiError,
      ),
    },
  },
  programStats: {
    method: 'GET',
    url: '/admin/api/stats',
    operationId: 'programStats',
    summary: 'Figures per live program',
    description:
      'One entry per live program (PROGRAMS), the default program first, each named by its key ' +
      'and name: enrollments by state, program messages of the last 90 days, check-ins closed ' +
      'or answered. Counts only: no contact, no reply text.',
    tag: 'admin',
    security: 'adminToken',
    responses: {
      200: json('Every live program.', z.object({ programs: z.array(ProgramFiguresView) })),
      ...ADMIN_COMMON,
    },
  },
  openApi: {
    method: 'GET',
    url: '/admin/api/openapi.json',
    operationId: 'openApi',
    summary: 'This document',
    tag: 'admin',
    security: 'adminToken',
    responses: {
      200: json('The OpenAPI 3.1 document.', z.record(z.string(), z.unknown())),
      ...ADMIN_COMMON,
    },
  },
} as const satisfies Record<string, RouteContract>;

const signupRoutes = {
  subscribe: {
    method: 'POST',
    url: '/subscribe',
    operationId: 'subscribe',
    summary: 'Sign up for the email course',
    description:
      'A form post answers with a page, a JSON post (Content-Type: application/json) with JSON. ' +
      'The answer is the same whether or not the address is known: a confirmation email goes ' +
      'out when it may. Limited per client address and per email address.',
    tag: 'signup',
    security: null,
    body: {
      required: true,
      checkedBy: 'handler',
      content: { 'application/x-www-form-urlencoded': SignupBody, 'application/json': SignupBody },
    },
    responses: {
      200: {
        description: 'Accepted: check your inbox.',
        content: { 'application/json': Ok, ...html('The "check your inbox" page.') },
      },
      400: {
        description:
          'A field to correct (invalid_email, invalid_firstName, invalid_timezone) or a control ' +
          'character (invalid_characters).',
        content: { 'application/json': SignupRefusal, ...html('The form again, with the error.') },
      },
      429: {
        description: 'Too many sign-ups from this client or for this address (rate_limited).',
        headers: retryAfter,
        content: { 'application/json': RateLimited, ...html('A "try again later" page.') },
      },
      500: json('Our own trouble (internal).', ApiError),
    },
  },
} as const satisfies Record<string, RouteContract>;

const twilioRefusals = {
  400: text(
    'Not a Twilio webhook: not a form of string fields (or, for /sms, not form-encoded), or a ' +
      'field other than Body holds a control character.',
  ),
  403: text('Missing or wrong X-Twilio-Signature.'),
};

const webhookRoutes = {
  twilioSms: {
    method: 'POST',
    url: '/webhooks/twilio/sms',
    operationId: 'twilioInboundSms',
    summary: 'Twilio: an inbound SMS',
    description:
      'Recorded and queued; the answer is empty TwiML at once (replies go out through the send ' +
      'queues). A sender we may not message, or a message without a valid MessageSid, is ' +
      'ignored with the same answer.',
    tag: 'webhooks',
    security: 'twilioSignature',
    body: {
      required: true,
      checkedBy: 'fastify',
      content: { 'application/x-www-form-urlencoded': TwilioInboundSms },
    },
    responses: {
      200: {
        description: 'Empty TwiML: <Response/>.',
        content: { 'text/xml': z.string().describe('<?xml ...?><Response/>') },
      },
      ...twilioRefusals,
      429: { ...text('Too many requests from this client address.'), headers: retryAfter },
    },
  },
  twilioStatus: {
    method: 'POST',
    url: '/webhooks/twilio/status',
    operationId: 'twilioStatusCallback',
    summary: 'Twilio: a delivery status callback',
    description: 'Moves the message’s status forward only (src/core/message-status.ts).',
    tag: 'webhooks',
    security: 'twilioSignature',
    querystring: TwilioStatusQuery,
    body: {
      required: true,
      checkedBy: 'fastify',
      content: { 'application/x-www-form-urlencoded': TwilioStatusCallback },
    },
    responses: {
      204: { description: 'Recorded (or not ours: nothing to do).' },
      ...twilioRefusals,
    },
  },
  emailInbound: {
    method: 'POST',
    url: '/webhooks/email/inbound',
    operationId: 'inboundEmail',
    summary: 'Inbound email, from a provider that turns mail into HTTP',
    description:
      'Handled exactly as mail to the SMTP listener. Accepted (200) also when the mail is ' +
      'dropped (forged or unknown reply address, another sender): the provider must not retry ' +
      'those, and learns nothing. At most 1 MB.',
    tag: 'webhooks',
    security: 'inboundEmailSignature',
    body: { required: true, checkedBy: 'handler', content: { 'application/json': InboundEmail } },
    responses: {
      200: json('Accepted.', Ok),
      400: json(
        'Not a JSON object of that shape (bad_request), or a control character in a field ' +
          '(invalid_characters): the same body is never taken, do not retry.',
        ApiError,
      ),
      401: json('Missing or wrong X-Steady-Signature (unauthorized).', ApiError),
      429: { ...text('Too many requests from this client address.'), headers: retryAfter },
      500: json('Our own trouble (internal): retry later.', ApiError),
    },
  },
} as const satisfies Record<string, RouteContract>;

// ---------------------------------------------------------------------------------------------
// Outbound event webhooks (src/webhooks/): endpoints, secrets, the delivery log

export const WebhookEndpointBody = z
  .object({
    url: z.string().describe('Where events are POSTed: https (in production) and public.'),
    events: z
      .array(z.string())
      .optional()
      .describe(`Event types to receive; absent: all of them (${EVENT_TYPES.join(', ')}).`),
    includeContacts: z
      .boolean()
      .optional()
      .describe('Full phone numbers and addresses in payloads (default false: masked).'),
  })
  .meta({ title: 'WebhookEndpointNew' });

export const WebhookEndpointChange = z
  .object({
    enabled: z.boolean().optional().describe('true enables it again (after an automatic disable).'),
    includeContacts: z.boolean().optional(),
    events: z.array(z.string()).optional(),
  })
  .meta({ title: 'WebhookEndpointChange' });

export const WebhookRotateBody = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86400)
      .optional()
      .describe('How long the older secrets keep signing (default 86400; 0: stop now).'),
  })
  .meta({ title: 'WebhookRotate' });

export const WebhookEndpointView = z
  .object({
    id: uuid('The endpoint id.'),
    url: z.string(),
    events: z.array(z.string()),
    enabled: z.boolean(),
    includeContacts: z.boolean(),
    failingSince: time().nullable().describe('Failing without a success since then.'),
    disabledAt: time().nullable(),
    disabledReason: z.string().nullable(),
    createdAt: time(),
    secrets: z
      .array(
        z.object({ id: uuid('The secret id.'), createdAt: time(), expiresAt: time().nullable() }),
      )
      .describe('Ids and lifetimes only: a secret is shown once, when it is made.'),
  })
  .meta({ title: 'WebhookEndpoint' });

export const WebhookDeliveryView = z
  .object({
    id: uuid('The delivery id.'),
    eventId: z.string().describe('The webhook-id header: the same for every attempt and replay.'),
    type: z.string(),
    endpointId: uuid('The endpoint id.'),
    status: z.enum(['pending', 'queued', 'delivered', 'dead']),
    attempts: z.number().int(),
    responseCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    replayOf: z.string().nullable(),
    createdAt: time(),
    lastAttemptAt: time().nullable(),
    finishedAt: time().nullable(),
  })
  .meta({ title: 'WebhookDelivery' });

const endpointId = z.object({ id: uuid('The endpoint id.') });

const eventWebhookRoutes = {
  createWebhook: {
    method: 'POST',
    url: '/admin/api/webhooks',
    operationId: 'createWebhook',
    summary: 'Register an event webhook endpoint',
    description:
      'Answers the endpoint id and its signing secret (whsec_...), shown this once. The URL must ' +
      'be https in production and resolve to public addresses only. Audited.',
    tag: 'admin',
    security: 'adminToken',
    body: {
      required: true,
      checkedBy: 'fastify',
      content: { 'application/json': WebhookEndpointBody },
    },
    responses: {
      201: json(
        'Registered.',
        z.object({
          id: uuid('The endpoint id.'),
          secret: z.string().describe('whsec_...: shown once.'),
        }),
      ),
      ...ADMIN_COMMON,
      400: json(
        'invalid_url, unknown_event, invalid_events; or invalid_characters, invalid_request.',
        ApiError,
      ),
    },
  },
  listWebhooks: {
    method: 'GET',
    url: '/admin/api/webhooks',
    operationId: 'listWebhooks',
    summary: 'Event webhook endpoints (never their secrets)',
    tag: 'admin',
    security: 'adminToken',
    responses: {
      200: json('Oldest first.', z.object({ endpoints: z.array(WebhookEndpointView) })),
      ...ADMIN_COMMON,
    },
  },
  updateWebhook: {
    method: 'POST',
    url: '/admin/api/webhooks/:id',
    operationId: 'updateWebhook',
    summary: 'Enable, disable or change an endpoint',
    description: 'Audited. Enabling one clears its failure record; its waiting events go out.',
    tag: 'admin',
    security: 'adminToken',
    params: endpointId,
    body: {
      required: true,
      checkedBy: 'fastify',
      content: { 'application/json': WebhookEndpointChange },
    },
    responses: {
      200: json('Changed.', Ok),
      ...ADMIN_COMMON,
      400: json('unknown_event, invalid_events; or invalid_characters, invalid_request.', ApiError),
      404: json('No endpoint with that id (not_found).', ApiError),
    },
  },
  deleteWebhook: {
    method: 'DELETE',
    url: '/admin/api/webhooks/:id',
    operationId: 'deleteWebhook',
    summary: 'Delete an endpoint, its secrets and its delivery log',
    tag: 'admin',
    security: 'adminToken',
    params: endpointId,
    responses: {
      200: json('Deleted.', Ok),
      ...ADMIN_COMMON,
      404: json('No endpoint with that id (not_found).', ApiError),
    },
  },
  rotateWebhookSecret: {
    method: 'POST',
    url: '/admin/api/webhooks/:id/secrets',
    operationId: 'rotateWebhookSecret',
    summary: 'Add a new signing secret (rotation)',
    description:
      'The new secret is answered once. Until the older ones expire (24 h by default) every ' +
      'delivery carries one signature per secret. Audited.',
    tag: 'admin',
    security: 'adminToken',
    params: endpointId,
    body: {
      required: false,
      checkedBy: 'handler',
      content: { 'application/json': WebhookRotateBody },
    },
    responses: {
      201: json(
        'Added.',
        z.object({
          id: uuid('The secret id.'),
          secret: z.string().describe('whsec_...: shown once.'),
          previousExpireAt: time().describe('When the older secrets stop signing.'),
        }),
      ),
      ...ADMIN_COMMON,
      404: json('No endpoint with that id (not_found).', ApiError),
    },
  },
  listWebhookDeliveries: {
    method: 'GET',
    url: '/admin/api/webhooks/:id/deliveries',
    operationId: 'listWebhookDeliveries',
    summary: 'An endpoint’s recent deliveries (the log keeps 30 days)',
    tag: 'admin',
    security: 'adminToken',
    params: endpointId,
    responses: {
      200: json(
        'Newest first, at most 100.',
        z.object({ deliveries: z.array(WebhookDeliveryView) }),
      ),
      ...ADMIN_COMMON,
    },
  },
  replayWebhookDelivery: {
    method: 'POST',
    url: '/admin/api/webhooks/deliveries/:id/replay',
    operationId: 'replayWebhookDelivery',
    summary: 'Send a delivery’s event again',
    description:
      'A new delivery of the same event (same webhook-id), after the subscriber’s waiting ones. Audited.',
    tag: 'admin',
    security: 'adminToken',
    params: z.object({ id: uuid('The delivery id.') }),
    responses: {
      201: json('Queued.', z.object({ id: uuid('The new delivery id.') })),
      ...ADMIN_COMMON,
      404: json('No delivery with that id (not_found).', ApiError),
    },
  },
} as const satisfies Record<string, RouteContract>;

// ---------------------------------------------------------------------------------------------
// Experiments (src/flows/experiments.ts): outcomes per step and variant, and ending a variant

const IntervalView = z
  .object({ low: z.number(), high: z.number() })
  .describe('A 95% interval.')
  .meta({ title: 'Interval' });

const RateOutcomeView = z
  .object({
    n: z.int().describe('Sends whose outcome is known.'),
    count: z.int().describe('Of those, how many replied (reply rate) or opted out (opt-out).'),
    rate: z.number().nullable(),
    interval: IntervalView.nullable().describe('Wilson 95% interval.'),
    pBest: z
      .number()
      .nullable()
      .describe('P(this variant is best); null below minNPerVariant in any variant.'),
  })
  .meta({ title: 'RateOutcome' });

const RatingOutcomeView = z
  .object({
    n: z.int().describe('Ratings (1-5) of the next check-in.'),
    mean: z.number().nullable(),
    sd: z.number().nullable(),
    interval: IntervalView.nullable().describe('t 95% interval of the mean.'),
    pBest: z.number().nullable(),
  })
  .meta({ title: 'RatingOutcome' });

const OutcomeVerdictView = z
  .object({
    status: z.enum(['ok', 'not enough data']),
    winner: z.string().nullable().describe('Named only when its P(best) > winnerProbability.'),
  })
  .meta({ title: 'OutcomeVerdict' });

export const ExperimentsReportView = z
  .object({
    generatedAt: z.iso.datetime(),
    minNPerVariant: z.int(),
    winnerProbability: z.number(),
    draws: z.int(),
    optOutWindowHours: z.int(),
    experiments: z.array(
      z
        .object({
          program: z.string(),
          step: z.string(),
          variants: z.array(
            z
              .object({
                name: z.string(),
                weight: z.number().nullable(),
                ended: z.object({ at: z.iso.datetime(), by: z.string() }).nullable(),
                n: z.int().describe('Sends (sent, or possibly sent).'),
                replyRate: RateOutcomeView,
                rating: RatingOutcomeView,
                optOut: RateOutcomeView,
              })
              .meta({ title: 'VariantReport' }),
          ),
          replyRate: OutcomeVerdictView,
          rating: OutcomeVerdictView,
          optOut: OutcomeVerdictView,
        })
        .meta({ title: 'StepReport' }),
    ),
  })
  .meta({ title: 'ExperimentsReport' });

export const EndVariantBody = z
  .object({
    program: z.string().min(1).max(100),
    step: z.string().min(1).max(100),
    variant: z.string().min(1).max(40),
  })
  .meta({ title: 'EndVariantBody' });

const experimentRoutes = {
  listExperiments: {
    method: 'GET',
    url: '/admin/api/experiments',
    operationId: 'listExperiments',
    summary: 'Experiments: each step’s variants and their outcomes',
    description:
      'Per step and variant: sends, reply rate to the next check-in, its mean rating and opt-outs ' +
      'within 48 hours, with 95% intervals and the probability that each variant is best.',
    tag: 'admin',
    security: 'adminToken',
    querystring: z.object({
      program: z.string().optional().describe('One program’s experiments (default: all).'),
    }),
    responses: {
      200: json('The report.', ExperimentsReportView),
      ...ADMIN_COMMON,
      404: json('No such program (not_found).', ApiError),
    },
  },
  endExperimentVariant: {
    method: 'POST',
    url: '/admin/api/experiments/end',
    operationId: 'endExperimentVariant',
    summary: 'End a variant: its traffic goes to the step’s other variants',
    description:
      'New assignments skip it; messages already assigned keep it. Audited ' +
      '(experiment.end_variant, actor api-token). A step keeps at least one variant running.',
    tag: 'admin',
    security: 'adminToken',
    body: {
      required: true,
      checkedBy: 'fastify',
      content: { 'application/json': EndVariantBody },
    },
    refuse: {
      body: {
        status: 400,
        error: 'bad_variant',
        message: 'Send {"program": "...", "step": "...", "variant": "..."}',
      },
    },
    responses: {
      200: json(
        'Ended.',
        z.object({
          ok: z.literal(true),
          program: z.string(),
          step: z.string(),
          variant: z.string(),
          endedAt: z.iso.datetime(),
        }),
      ),
      ...ADMIN_COMMON,
      404: json('No such program, step or variant (unknown_program, unknown_variant).', ApiError),
      409: json('Already ended (already_ended), or the last one running (last_variant).', ApiError),
    },
  },
} as const satisfies Record<string, RouteContract>;

export const API = {
  ...adminRoutes,
  ...eventWebhookRoutes,
  ...experimentRoutes,
  ...signupRoutes,
  ...webhookRoutes,
};
export type ApiRouteName = keyof typeof API;

// ---------------------------------------------------------------------------------------------
// Attaching a contract to a Fastify route

type JsonSchemaOf<R> = R extends { content: { 'application/json': infer S } } ? S : never;
type JsonResponses<R> = {
  [K in keyof R as JsonSchemaOf<R[K]> extends never ? never : K]: JsonSchemaOf<R[K]>;
};
type BodyOf<C> = C extends { body: { checkedBy: 'fastify'; content: infer M } }
  ? M[keyof M]
  : undefined;
type PartOf<C, K extends string> = C extends { [P in K]: infer S } ? S : undefined;

export interface ContractSchema<C extends RouteContract> {
  params: PartOf<C, 'params'>;
  querystring: PartOf<C, 'querystring'>;
  body: BodyOf<C>;
  response: JsonResponses<C['responses']>;
}

/** The route's Fastify schema (zod, for the type provider): its parts, the body where Fastify
 * checks it, and the JSON answers (serialized through their schema: undeclared fields never go
 * out). */
export function contractSchema<C extends RouteContract>(c: C): ContractSchema<C> {
  const response: Record<number, z.ZodType> = {};
  for (const [status, r] of Object.entries(c.responses)) {
    const schema = r.content?.['application/json'];
    if (schema) response[Number(status)] = schema;
  }
  const body =
    c.body?.checkedBy === 'fastify' ? Object.values(c.body.content)[0] : (undefined as never);
  return {
    ...(c.params ? { params: c.params } : {}),
    ...(c.querystring ? { querystring: c.querystring } : {}),
    ...(body ? { body } : {}),
    response,
  } as unknown as ContractSchema<C>;
}

type SchemaErrorFormatter = NonNullable<FastifyServerOptions['schemaErrorFormatter']>;

/** Where a request part fails its schema: the contract's refusal for that part, or 400
 * invalid_request naming the field. The app's error handler answers {error, message}. */
function errorFormatter(c: RouteContract): SchemaErrorFormatter {
  return (errors, dataVar) => {
    const refusal = c.refuse?.[dataVar as Part];
    if (refusal)
      return Object.assign(new Error(refusal.message), {
        statusCode: refusal.status,
        code: refusal.error,
      });
    const first = errors[0];
    const where = `${dataVar}${first?.instancePath ?? ''}`;
    return Object.assign(new Error(`${where}: ${first?.message ?? 'not valid'}`), {
      statusCode: 400,
      code: 'invalid_request',
    });
  };
}

/** Route options that attach a contract: its schema, the zod validator and serializer, and its
 * refusals. `attachValidation` hands a failed part to the handler instead (a webhook checks its
 * signature before it judges the form). */
export function routeOptions<C extends RouteContract>(
  c: C,
  opts: { attachValidation?: boolean } = {},
) {
  // Fastify types a route's compilers by its whole schema object; these take each part's zod
  // schema, as Fastify calls them (`never`: assignable to that type).
  const compilers = { validatorCompiler, serializerCompiler } as {
    validatorCompiler: never;
    serializerCompiler: never;
  };
  return {
    schema: contractSchema(c),
    ...compilers,
    schemaErrorFormatter: errorFormatter(c),
    ...(opts.attachValidation ? { attachValidation: true } : {}),
  };
}

/** The path a route is registered at inside a prefixed plugin. */
export function within(prefix: string, c: RouteContract): string {
  if (!c.url.startsWith(prefix)) throw new Error(`${c.url} is not under ${prefix}`);
  return c.url.slice(prefix.length);
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI 3.1 document

type JsonSchema = Record<string, unknown>;

/** A zod schema as JSON Schema 2020-12 (OpenAPI 3.1's dialect): as a request is read (input) or
 * as an answer is written (output: a Date is an ISO 8601 date-time string). */
function toJsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === 'date') {
        ctx.jsonSchema.type = 'string';
        ctx.jsonSchema.format = 'date-time';
      }
    },
  }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parameters(c: RouteContract): JsonSchema[] {
  const out: JsonSchema[] = [];
  for (const [where, schema] of [
    ['path', c.params],
    ['query', c.querystring],
  ] as const) {
    if (!schema) continue;
    const js = toJsonSchema(schema, 'input') as {
      properties?: Record<string, JsonSchema>;
      required?: string[];
    };
    for (const [name, prop] of Object.entries(js.properties ?? {})) {
      const { description, ...rest } = prop;
      out.push({
        name,
        in: where,
        required: where === 'path' || (js.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  return out;
}

function content(types: MediaTypes, io: 'input' | 'output'): JsonSchema {
  return Object.fromEntries(
    Object.entries(types).map(([type, schema]) => [type, { schema: toJsonSchema(schema, io) }]),
  );
}

function operation(c: RouteContract): JsonSchema {
  const responses: JsonSchema = {};
  for (const [status, r] of Object.entries(c.responses)) {
    responses[status] = {
      description: r.description,
      ...(r.headers
        ? {
            headers: Object.fromEntries(
              Object.entries(r.headers).map(([name, description]) => [
                name,
                { description, schema: { type: 'string' } },
              ]),
            ),
          }
        : {}),
      ...(r.content ? { content: content(r.content, 'output') } : {}),
    };
  }
  const params = parameters(c);
  return {
    operationId: c.operationId,
    summary: c.summary,
    ...(c.description ? { description: c.description } : {}),
    tags: [c.tag],
    security: c.security ? [{ [c.security]: [] }] : [],
    ...(params.length ? { parameters: params } : {}),
    ...(c.body
      ? { requestBody: { required: c.body.required, content: content(c.body.content, 'input') } }
      : {}),
    responses,
  };
}

/** `/admin/api/subscribers/:id` as an OpenAPI path: `/admin/api/subscribers/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_]\w*)/g, '{$1}');
}

function packageInfo(): { version: string; license?: string } {
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      version?: string;
      license?: string;
    };
    return { version: pkg.version ?? '0.0.0', license: pkg.license };
  } catch {
    return { version: '0.0.0' };
  }
}

let cached: JsonSchema | null = null;

/** The OpenAPI 3.1 document of every route in the table, built once per process. */
export function openApiDocument(): JsonSchema {
  if (cached) return cached;
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const c of Object.values(API) as RouteContract[]) {
    const path = (paths[openApiPath(c.url)] ??= {});
    path[c.method.toLowerCase()] = operation(c);
  }
  const pkg = packageInfo();
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Steady HTTP API',
      version: pkg.version,
      description:
        'The operator’s JSON API (/admin/api, bearer ADMIN_TOKEN), the email course sign-up and ' +
        'the inbound webhooks. Generated from the zod schemas the routes use ' +
        '(src/http/api-schemas.ts); `npm run cli -- openapi` prints it. A request whose path, ' +
        'query or body holds a control character (NUL and the other C0 controls, DEL) is ' +
        'refused with 400 invalid_characters before anything else reads it.',
      // An SPDX id (package.json's "license") is both the name and the identifier.
      ...(pkg.license && /^[A-Za-z0-9.+-]+$/.test(pkg.license)
        ? { license: { name: pkg.license, identifier: pkg.license } }
        : {}),
    },
    tags: [
      { name: 'admin', description: 'The operator’s JSON API. Answers never hold reply text.' },
      { name: 'signup', description: 'The email course sign-up.' },
      { name: 'webhooks', description: 'Providers posting to Steady.' },
    ],
    paths,
    components: {
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'Authorization: Bearer <ADMIN_TOKEN>. A wrong token counts as a guess: too many ' +
            'from one client answer 429.',
        },
        twilioSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Twilio-Signature',
          description:
            'Twilio’s signature of PUBLIC_URL + the path (query included) and the form fields, ' +
            'with TWILIO_AUTH_TOKEN.',
        },
        inboundEmailSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Steady-Signature',
          description:
            'sha256=<hex>: the HMAC-SHA256 of the raw request body with INBOUND_EMAIL_SECRET.',
        },
      },
    },
  };
  return cached;
}
