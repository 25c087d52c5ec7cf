/** Thrown when messages/ cannot be used. The message lists every problem, one per line, each
 * starting with the file it is about, so a content editor can fix them all in one pass. */
export class ContentError extends Error {
  constructor(
    readonly problems: string[],
    readonly warnings: string[] = [],
  ) {
    super(
      `messages/ has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
    this.name = 'ContentError';
  }
}

/** Collects errors and warnings while content is checked. */
export class Problems {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  error(file: string, message: string): void {
    this.errors.push(`${file}: ${message}`);
  }

  warn(file: string, message: string): void {
    this.warnings.push(`${file}: ${message}`);
  }
}
