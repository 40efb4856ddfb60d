/** Input checks shared by the CLI and the services. */
import { UserError } from '../errors.js';

const SNOWFLAKE = /^\d{17,20}$/;

export function isSnowflake(value: string): boolean {
  return SNOWFLAKE.test(value);
}

export function assertSnowflake(value: string, what = 'channel ID'): string {
  const trimmed = value.trim();
  if (!isSnowflake(trimmed)) {
    throw new UserError(
      `"${value}" is not a Discord ${what}: expected a snowflake of 17–20 digits (Discord: Developer Mode → right-click → Copy ID)`,
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
