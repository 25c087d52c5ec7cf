// The inbound SMTP listener for replies, the List-Unsubscribe mailto, bounces and complaints. It
// takes mail only for REPLY_DOMAIN and the bounce address (anything else is refused at RCPT, so we
// are never an open relay), at most 1 MB a message, no AUTH and no STARTTLS: it listens on
// INBOUND_SMTP_HOST (127.0.0.1; 0.0.0.0 in the image) behind the real MX, which handles TLS and
// spam filtering. Attachments are ignored.
//
// What a sending server is told decides whether it tries again: 4xx means "later" (it retries
// for days), 5xx "never" (it bounces to the sender). Only our own trouble (the database down) is
// a 4xx; mail that can never be taken (a control character in an address, a header or the text,
// a message mailparser cannot read, such as 30,000 header lines) is a 5xx. Slow and greedy
// clients: a connection silent for INBOUND_SMTP_IDLE_TIMEOUT_MS is closed, and one client
// address holds at most INBOUND_SMTP_MAX_CONNECTIONS_PER_CLIENT of the
// INBOUND_SMTP_MAX_CONNECTIONS, so idle connections from one host cannot lock out the others.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { clientKey } from '../core/client-key.ts';
import { hasControlChars } from '../core/control-chars.ts';
import type { Deps } from '../deps.ts';
import { authResultsValues } from './auth-results.ts';
import {
  handleInboundEmail,
  inboundEmailProblem,
  InvalidInboundEmail,
  isOurAddress,
  type InboundEmail,
} from './handle-inbound-email.ts';

export const MAX_MESSAGE_BYTES = 1024 * 1024;
const MAX_RECIPIENTS = 10;

export interface InboundSmtpOptions {
  /** Defaults to INBOUND_SMTP_PORT; 0 picks a free port (tests). */
  port?: number;
  host?: string;
}

export interface InboundSmtp {
  port: number;
  stop(): Promise<void>;
}

const smtpError = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

/** Headers we read (and, through them, store): a control character in one refuses the mail. */
const READ_HEADERS = new Set([
  'from',
  'subject',
  'message-id',
  'auto-submitted',
  'precedence',
  'x-autoreply',
]);

/** PostgreSQL refusing a string (NUL, or bytes it cannot encode): the mail's fault, not ours. */
export function isInvalidTextError(err: unknown): boolean {
  const codes = new Set(['22021', '22P05']);
  const e = err as {
    message?: unknown;
    code?: unknown;
    cause?: { code?: unknown; originalCode?: unknown };
    meta?: { driverAdapterError?: { cause?: { code?: unknown } } };
  } | null;
  if (!e || typeof e !== 'object') return false;
  const found = [
    e.code,
    e.cause?.code,
    e.cause?.originalCode,
    e.meta?.driverAdapterError?.cause?.code,
  ].some((c) => typeof c === 'string' && codes.has(c));
  return (
    found ||
    /invalid byte sequence for encoding|untranslatable character|unsupported Unicode escape/i.test(
      String(e.message ?? ''),
    )
  );
}

/** What the sending server is told when handling a mail failed: 554 (never again) for bad input,
 * 451 (try later) for anything else, which is ours to fix. */
export function smtpAnswerFor(err: unknown): Error & { responseCode: number } {
  if (err instanceof InvalidInboundEmail)
    return smtpError(554, `5.6.0 Message refused: ${err.message}`);
  if (isInvalidTextError(err))
    return smtpError(554, '5.6.0 Message refused: it holds characters we cannot store');
  return smtpError(451, 'Temporary problem here, please try again later');
}

/** Why the headers of a parsed mail make it unacceptable, or null. */
function headerProblem(parsed: ParsedMail): string | null {
  for (const { key, line } of parsed.headerLines) {
    if (!READ_HEADERS.has(key)) continue;
    // Folded lines are one line: the break before the continuation's white space is folding.
    if (hasControlChars(line.replace(/\r?\n(?=[ \t])/g, ''), 'line'))
      return `the ${key} header contains a control character`;
  }
  return null;
}

/**
 * Connections per client (an IPv4 address or an IPv6 /64, as the HTTP limits count), from
 * onConnect to onClose, so one host cannot take every slot (smtp-server's maxClients counts all
 * clients together).
 */
function perClientLimit(limit: number) {
  const open = new Map<string, number>();
  const counted = new Map<string, string>(); // session id -> client address
  return {
    admit(session: SMTPServerSession): boolean {
      const who = clientKey(session.remoteAddress);
      const n = open.get(who) ?? 0;
      if (n >= limit) return false;
      open.set(who, n + 1);
      counted.set(session.id, who);
      return true;
    },
    release(session: SMTPServerSession): void {
      const who = counted.get(session.id);
      if (who === undefined) return;
      counted.delete(session.id);
      const n = (open.get(who) ?? 1) - 1;
      if (n > 0) open.set(who, n);
      else open.delete(who);
    },
  };
}

/** Out-of-office answers and list traffic: never treated as a person's reply (no mail loops). */
function isAutomatic(parsed: ParsedMail): boolean {
  const h = (name: string) => String(parsed.headers.get(name) ?? '').toLowerCase();
  const auto = h('auto-submitted');
  return (
    (auto !== '' && auto !== 'no') ||
    /^(bulk|junk|list|auto_reply)$/.test(h('precedence')) ||
    parsed.headers.has('x-autoreply')
  );
}

export function toInboundEmail(
  parsed: ParsedMail,
  raw: string,
  session: SMTPServerSession,
): InboundEmail {
  return {
    recipients: session.envelope.rcptTo.map((r) => r.address),
    from: parsed.from?.value[0]?.address ?? null,
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    messageId: parsed.messageId ?? null,
    automatic: isAutomatic(parsed),
    raw,
    // The relay in front of us records SPF/DKIM/DMARC here (auth-results.ts reads it).
    authenticationResults: authResultsValues(parsed.headerLines),
    via: 'smtp',
  };
}

export async function startInboundSmtp(
  deps: Pick<Deps, 'db' | 'queues' | 'config' | 'clock' | 'log'>,
  opts: InboundSmtpOptions = {},
): Promise<InboundSmtp> {
  const { log } = deps;
  const { email } = deps.config;
  const perClient = perClientLimit(email.inboundSmtpMaxConnectionsPerClient);
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    size: MAX_MESSAGE_BYTES,
    maxClients: email.inboundSmtpMaxConnections,
    socketTimeout: email.inboundSmtpIdleTimeoutMs,
    // On stop, connections still open get this long (never more than a silent one is kept).
    closeTimeout: Math.min(email.inboundSmtpIdleTimeoutMs, 30_000),
    // Mail comes from the MX in front of us: its name tells nothing, and a lookup per connection
    // delays every greeting while DNS answers.
    disableReverseLookup: true,
    logger: false,
    banner: 'inbound mail',
    onConnect(session, callback) {
      if (!perClient.admit(session))
        return callback(
          smtpError(421, 'Too many connections from your address, try again in a moment'),
        );
      callback();
    },
    onClose(session) {
      perClient.release(session);
    },
    // smtp-server's own parser refuses most such addresses already (501); this is the rule we
    // rely on, whatever the parser lets through.
    onMailFrom(address, _session, callback) {
      if (hasControlChars(address.address, 'line'))
        return callback(smtpError(553, 'Sender address contains a control character'));
      callback();
    },
    onRcptTo(address, session, callback) {
      if (hasControlChars(address.address, 'line'))
        return callback(smtpError(553, 'Recipient address contains a control character'));
      if (!isOurAddress(deps.config, address.address))
        return callback(smtpError(550, 'No such user here (relaying denied)'));
      if (session.envelope.rcptTo.length >= MAX_RECIPIENTS)
        return callback(smtpError(452, 'Too many recipients'));
      callback();
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      let answered = false;
      const answer = (err?: Error) => {
        if (answered) return;
        answered = true;
        callback(err ?? null);
      };
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
        if (bytes <= MAX_MESSAGE_BYTES) chunks.push(c); // past the limit, read on but keep nothing
      });
      stream.on('error', (err) => answer(err));
      stream.on('end', () => {
        if (stream.sizeExceeded)
          return answer(smtpError(552, `Message too big: the limit is ${MAX_MESSAGE_BYTES} bytes`));
        const message = Buffer.concat(chunks);
        // mailparser gets the bytes: an 8-bit body is in the charset its part declares (Latin-1,
        // Windows-1252, ...), and decoding it all as UTF-8 first would turn every such byte into
        // U+FFFD before mailparser could read the charset. The string is only for the report
        // reader (bounces are ASCII in practice) and the dedupe fallback.
        const raw = message.toString('utf8');
        void receive(message, raw, session).then(answer, (err: unknown) =>
          answer(smtpAnswerFor(err)),
        );
      });
    },
  });
  server.on('error', (err) => log.error({ err: err.message }, 'inbound SMTP error'));

  /** Reads and handles one message; resolves with the error to answer, or nothing for 250. */
  async function receive(
    message: Buffer,
    raw: string,
    session: SMTPServerSession,
  ): Promise<Error | undefined> {
    let parsed: ParsedMail;
    try {
      parsed = await simpleParser(message, {
        skipImageLinks: true,
        skipTextToHtml: true,
        skipTextLinks: true,
      });
    } catch (err) {
      // The same bytes will never parse: refused for good (30,000 header lines end here).
      log.info(
        { err: err instanceof Error ? err.message : String(err) },
        'inbound email unreadable',
      );
      return smtpError(554, '5.6.0 Message refused: it cannot be read as a mail message');
    }
    const mail = toInboundEmail(parsed, raw, session);
    const problem = headerProblem(parsed) ?? inboundEmailProblem(mail);
    if (problem) {
      log.info({ reason: problem }, 'inbound email refused');
      return smtpError(554, `5.6.0 Message refused: ${problem}`);
    }
    try {
      await handleInboundEmail(deps, mail);
      return undefined;
    } catch (err) {
      // A string PostgreSQL refuses is the mail's fault (554); anything else is ours to fix
      // (database down, ...): 451 makes the sending server try again later.
      const answer = smtpAnswerFor(err);
      log[answer.responseCode >= 500 ? 'info' : 'error'](
        { err: err instanceof Error ? err.message : String(err) },
        answer.responseCode >= 500
          ? 'inbound email refused'
          : 'inbound email could not be processed',
      );
      return answer;
    }
  }

  const port = opts.port ?? deps.config.email.inboundSmtpPort;
  const host = opts.host ?? deps.config.email.inboundSmtpHost;
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `The inbound SMTP listener cannot listen on ${host}:${port} (${err.code ?? err.message}). ` +
            'Set INBOUND_SMTP_PORT to a free port, or stop whatever holds this one.',
        ),
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = (server.server.address() as AddressInfo).port;
  return {
    port: bound,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
