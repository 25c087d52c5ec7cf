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
  /** The next `times` recipients (stage 'rcpt', the default) or messages (stage 'data') are
   * refused with this SMTP reply code (e.g. 450 mailbox busy, 550 no such user, 554 rejected). */
  failNext(code: number, opts?: { stage?: 'rcpt' | 'data'; times?: number }): void;
  close(): Promise<void>;
}

/** An SMTP refusal as smtp-server sends it: the reply code and text on the wire. */
function refusal(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: SinkMessage[] = [];
  const faults: { code: number; stage: 'rcpt' | 'data' }[] = [];
  const takeFault = (stage: 'rcpt' | 'data') => {
    const i = faults.findIndex((f) => f.stage === stage);
    return i < 0 ? null : faults.splice(i, 1)[0]!.code;
  };
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    logger: false,
    onAuth(_auth, _session, callback) {
      callback(null, { user: 'test' });
    },
    onRcptTo(address, _session, callback) {
      const code = takeFault('rcpt') ?? opts.rejectRcpt?.(address.address) ?? null;
      if (code === null) return callback();
      callback(refusal(code, `Recipient ${address.address} refused by the sink`));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', callback);
      stream.on('end', () => {
        const code = takeFault('data');
        if (code !== null) return callback(refusal(code, 'Message refused by the sink'));
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
    failNext(code, { stage = 'rcpt', times = 1 } = {}) {
      for (let i = 0; i < times; i++) faults.push({ code, stage });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
