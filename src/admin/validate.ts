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
