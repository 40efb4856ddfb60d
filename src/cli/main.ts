/**
 * The CLI's one error boundary: typed errors become exit codes (2 bad input, 1 dependency or
 * internal failure) and one clear line on stderr (JSON with --json). Nothing else sets the exit
 * code; only `serve` ends the process itself, with that code, once it has stopped (a library may
 * keep a socket open).
 */
import { DependencyError, ThresholdError, UserError } from '../errors.js';
import { printable } from './output.js';

interface CommanderLikeError {
  code: string;
  exitCode: number;
  message: string;
}

function isCommanderError(err: unknown): err is CommanderLikeError {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as CommanderLikeError).code === 'string' &&
    (err as CommanderLikeError).code.startsWith('commander.')
  );
}

export function exitCodeFor(err: unknown): number {
  if (isCommanderError(err)) {
    return ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(err.code) ? 0 : 2;
  }
  if (err instanceof UserError) return 2;
  return 1;
}

function describe(err: unknown): { code: string; message: string } {
  if (isCommanderError(err)) {
    // commander puts its suggestion on a second line: "unknown command 'x'\n(Did you mean y?)".
    return {
      code: 'usage',
      message: err.message
        .replace(/^error: /, '')
        .replace(/\s*\n\s*/g, ' ')
        .trim(),
    };
  }
  if (err instanceof UserError || err instanceof DependencyError || err instanceof ThresholdError)
    return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal', message: `internal error: ${message}` };
}

export async function main(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const verbose = argv.includes('--verbose');
  let code = 0;
  // A late rejection from a library (pdf.js can reject after its text came back) is reported,
  // never a crash with a stack trace.
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`copilot: internal error: ${reason instanceof Error ? reason.message : String(reason)}\n`);
    process.exitCode = 1;
  });
  try {
    const { buildProgram } = await import('./program.js');
    const program = buildProgram({ json });
    await program.parseAsync(argv);
  } catch (err) {
    code = exitCodeFor(err);
    if (code !== 0) {
      const { code: errorCode, message: raw } = describe(err);
      // A message may quote input (an id, a name, a server's reply): never a control character.
      const message = printable(raw);
      if (json) {
        process.stderr.write(`${JSON.stringify({ error: { code: errorCode, message } })}\n`);
      } else {
        const usage = isCommanderError(err) ? ' (see `copilot --help`)' : '';
        process.stderr.write(`copilot: ${message}${usage}\n`);
      }
      if (verbose && err instanceof Error && err.stack && !isCommanderError(err)) {
        process.stderr.write(`${err.stack}\n`);
        if (err.cause instanceof Error && err.cause.stack) process.stderr.write(`caused by: ${err.cause.stack}\n`);
      }
    }
  }
  process.exitCode = code;
}
