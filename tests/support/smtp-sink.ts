// A local SMTP server that keeps every message it accepts, parsed by mailparser as inbound mail
// is, so tests check what a mail client would see (headers, multipart parts) rather than what we
// asked nodemailer to do.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export type SinkMessage = ParsedMail & {
  /** The message exactly as it came over the wire. */
  raw: string;
  envelope: { from: string | null; to: string[] };
};

export interface SmtpSinkOptions {
  /** An SMTP reply code (e.g. 550, 452) to refuse this recipient with, or null to accept. */
  rejectRcpt?: (address: string) => number | null;
}

export interface SmtpSink {
  port: number;
  url: string; // smtp://127.0.0.1:port
  messages: SinkMessage[];
  close(): Promise<void>;
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'test' });
    },
    onRcptTo(address, _session, callback) {
      const code = opts.rejectRcpt?.(address.address) ?? null;
      if (code === null) return callback();
      const err = Object.assign(new Error(`Recipient ${address.address} refused by the sink`), {
        responseCode: code,
      });
      callback(err);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        // Parsed before answering, so the sender's promise resolves only once the message is here.
        simpleParser(raw)
          .then((parsed) => {
            const from = session.envelope.mailFrom;
            messages.push(
              Object.assign(parsed, {
                raw,
                envelope: {
                  from: from ? from.address : null,
                  to: session.envelope.rcptTo.map((r) => r.address),
                },
              }),
            );
            callback();
          })
          .catch(callback);
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
