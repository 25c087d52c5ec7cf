/** A start-up problem a person can fix; printed without a stack trace, exit code 2. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}
