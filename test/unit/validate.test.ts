/** Input checks shared by the CLI and the services: snowflakes and whole numbers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertSnowflake, isSnowflake, wholeNumber } from '../../src/validate.js';
import { UserError } from '../../src/errors.js';

test('a snowflake: 17–20 digits, no leading zero, at most 2^64 − 1', () => {
  for (const ok of ['10000000000000000', '123456789012345678', '18446744073709551615', '99999999999999999']) {
    assert.equal(isSnowflake(ok), true, ok);
  }
  for (const bad of [
    '00000000000000000',
    '012345678901234567',
    '18446744073709551616',
    '99999999999999999999',
    '1234567890123456',
    '123456789012345678901',
    ' 123456789012345678',
    '12345678901234567a',
    '',
  ]) {
    assert.equal(isSnowflake(bad), false, bad);
  }
  assert.equal(assertSnowflake(' 123456789012345678 '), '123456789012345678');
  assert.throws(
    () => assertSnowflake('00000000000000000'),
    (err: unknown) => err instanceof UserError && err.exitCode === 2,
  );
});

test('wholeNumber: digits only, within the range', () => {
  assert.equal(wholeNumber('20', '--limit', 1, 10_000), 20);
  assert.equal(wholeNumber(' 7 ', '--limit', 1, 10_000), 7);
  assert.equal(wholeNumber('10000', '--limit', 1, 10_000), 10_000);
  for (const bad of ['0', '10001', '99999999999999999999', '1e3', '0x10', '-1', '2.5', '', 'ten', undefined]) {
    assert.throws(
      () => wholeNumber(bad, '--limit', 1, 10_000),
      (err: unknown) => err instanceof UserError && err.message.startsWith('--limit must be a whole number from 1 to 10000 (got "'),
      String(bad),
    );
  }
});
