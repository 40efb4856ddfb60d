/**
 * Typed errors. The CLI's one error boundary (src/cli/main.ts) turns them into exit codes:
 * UserError → 2 (bad input or usage; nothing was changed), DependencyError → 1 (a database,
 * Groq, embeddings or Discord failure). Anything else is an internal error (exit 1).
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly code = 'bad_input',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UserError';
  }
}

export class DependencyError extends Error {
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly code = 'dependency_failed',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DependencyError';
  }
}

/** A measured result below the threshold the operator set (a CI gate such as `eval --min-hit`): exit 1. */
export class ThresholdError extends Error {
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly code = 'below_threshold',
  ) {
    super(message);
    this.name = 'ThresholdError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
