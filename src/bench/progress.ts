// The progress line on stderr, so `--json` stdout stays one line. On a terminal it rewrites one
// line in place; in a log (CI, a pipe) it prints a line every few seconds instead.

export interface Progress {
  update(text: string): void;
  /** Prints a line that stays (a part finished). */
  note(text: string): void;
  done(): void;
}

export function progress(opts: { enabled?: boolean; stream?: NodeJS.WriteStream } = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const enabled = opts.enabled ?? true;
  const tty = Boolean(stream.isTTY);
  let last = '';
  let lastPrinted = 0;
  const clear = () => {
    if (tty && last) stream.write('\r\x1b[K');
    last = '';
  };
  return {
    update(text) {
      if (!enabled) return;
      const line = `[bench] ${text}`;
      if (tty) {
        stream.write('\r\x1b[K' + line.slice(0, (stream.columns || 120) - 1));
        last = line;
      } else if (Date.now() - lastPrinted >= 5000) {
        stream.write(line + '\n');
        lastPrinted = Date.now();
      }
    },
    note(text) {
      if (!enabled) return;
      clear();
      stream.write(`[bench] ${text}\n`);
    },
    done() {
      if (enabled) clear();
    },
  };
}
