// The inbound SMTP listener for replies, the List-Unsubscribe mailto, bounces and complaints. It
// takes mail only for REPLY_DOMAIN and the bounce address (anything else is refused at RCPT, so we
// are never an open relay), at most 1 MB a message, no AUTH and no STARTTLS: it listens on
// 127.0.0.1 behind the real MX, which handles TLS and spam filtering. Attachments are ignored.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Deps } from '../deps.ts';
import { handleInboundEmail, isOurAddress, type InboundEmail } from './handle-inbound-email.ts';

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
    via: 'smtp',
  };
}

export async function startInboundSmtp(
  deps: Pick<Deps, 'db' | 'queues' | 'config' | 'clock' | 'log'>,
  opts: InboundSmtpOptions = {},
): Promise<InboundSmtp> {
  const { log } = deps;
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['AUTH', 'STARTTLS'],
    authOptional: true,
    size: MAX_MESSAGE_BYTES,
    maxClients: 50,
    logger: false,
    banner: 'inbound mail',
    onRcptTo(address, session, callback) {
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
        simpleParser(message, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true })
          .then((parsed) => handleInboundEmail(deps, toInboundEmail(parsed, raw, session)))
          .then(() => answer())
          .catch((err: unknown) => {
            // Ours to fix (database down, ...): 451 makes the sending server try again later.
            log.error(
              { err: err instanceof Error ? err.message : String(err) },
              'inbound email could not be processed',
            );
            answer(smtpError(451, 'Temporary problem here, please try again later'));
          });
      });
    },
  });
  server.on('error', (err) => log.error({ err: err.message }, 'inbound SMTP error'));

  const port = opts.port ?? deps.config.email.inboundSmtpPort;
  const host = opts.host ?? '127.0.0.1';
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
