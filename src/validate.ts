/** Input checks shared by the CLI and the services. */
import { UserError } from './errors.js';

/** 17–20 digits without a leading zero, and no more than fits in 64 bits (2^64 − 1). */
const SNOWFLAKE = /^[1-9]\d{16,19}$/;
const MAX_SNOWFLAKE = 18_446_744_073_709_551_615n;

export function isSnowflake(value: string): boolean {
  return SNOWFLAKE.test(value) && BigInt(value) <= MAX_SNOWFLAKE;
}

export function assertSnowflake(value: string, what = 'channel ID'): string {
  const trimmed = value.trim();
  if (!isSnowflake(trimmed)) {
    throw new UserError(
      `"${value}" is not a Discord ${what}: expected a snowflake: 17–20 digits, no leading zero, at most 18446744073709551615 (Discord: Developer Mode → right-click → Copy ID)`,
      'bad_snowflake',
    );
  }
  return trimmed;
}

/** The largest number of rows a listing option such as --limit accepts. */
export const MAX_LIST_LIMIT = 10_000;

/**
 * The number `text` writes with digits only (no sign, fraction, exponent or hex; surrounding
 * spaces allowed) when it is from `min` to `max`, else null. The one rule for whole numbers in
 * flags and in the environment.
 */
export function wholeNumberIn(text: string, min: number, max: number): number | null {
  const trimmed = text.trim();
  const n = /^\d{1,16}$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  return n >= min && n <= max ? n : null;
}

/** What is wrong with a whole number outside `min`..`max`, quoting it. */
export function wholeNumberProblem(value: string, min: number, max: number): string {
  return `must be a whole number from ${min} to ${max} (got "${value}")`;
}

/**
 * A whole number given on the command line, from `min` to `max`; anything else is a UserError
 * naming the option and the range.
 */
export function wholeNumber(value: string | undefined, option: string, min: number, max: number, code = 'bad_number'): number {
  const n = wholeNumberIn(value ?? '', min, max);
  if (n === null) throw new UserError(`${option} ${wholeNumberProblem(value ?? '', min, max)}`, code);
  return n;
}
