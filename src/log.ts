// Structured logs (pino). Contacts are masked before they reach a log line and reply text never
// does; `redact` is a second line of defence for fields that should never be logged at all.
import { pino, type Logger, type DestinationStream } from 'pino';

export type Log = Logger;

export function createLog(level: string, dest?: DestinationStream): Log {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: [
          'text',
          'body',
          '*.text',
          '*.body',
          'phone',
          'email',
          '*.phone',
          '*.email',
          'to',
          '*.to',
        ],
        censor: '[redacted]',
      },
    },
    dest,
  );
}
