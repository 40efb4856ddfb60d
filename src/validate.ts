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
 * A whole number given on the command line (digits only: no sign, fraction, exponent or hex),
 * from `min` to `max`; anything else is a UserError naming the option and the range.
 */
export function wholeNumber(value: string | undefined, option: string, min: number, max: number, code = 'bad_number'): number {
  const text = (value ?? '').trim();
  const n = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min && n <= max)) {
    throw new UserError(`${option} must be a whole number from ${min} to ${max} (got "${value ?? ''}")`, code);
  }
  return n;
}
