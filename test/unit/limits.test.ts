import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBudget, UserRateLimiter } from '../../src/answer/limits.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

test('UserRateLimiter: perMinute in a sliding window, one notice per refusal streak', () => {
  const c = clock();
  const limiter = new UserRateLimiter({ perMinute: 3, now: c.now });
  assert.deepEqual(limiter.take('u1'), { ok: true }); // t=0
  c.advance(10_000);
  assert.deepEqual(limiter.take('u1'), { ok: true }); // t=10
  c.advance(10_000);
  assert.deepEqual(limiter.take('u1'), { ok: true }); // t=20
  c.advance(5_000);
  assert.deepEqual(limiter.take('u1'), { ok: false, retryInMs: 35_000, firstRefusal: true }); // t=25
  c.advance(5_000);
  assert.deepEqual(limiter.take('u1'), { ok: false, retryInMs: 30_000, firstRefusal: false }); // t=30
  assert.deepEqual(limiter.take('u2'), { ok: true }, 'other users are not affected');
  c.advance(29_999);
  assert.equal(limiter.take('u1').ok, false, 'just before the first request leaves the window');
  c.advance(1);
  assert.deepEqual(limiter.take('u1'), { ok: true }, 'the window slid past the first request'); // t=60
  const again = limiter.take('u1');
  assert.deepEqual(again, { ok: false, retryInMs: 10_000, firstRefusal: true }, 'a new streak gets a new notice');
});

test('UserRateLimiter: idle users are forgotten and the map stays bounded', () => {
  const c = clock();
  const limiter = new UserRateLimiter({ perMinute: 2, now: c.now, maxUsers: 100 });
  for (let i = 0; i < 50; i++) limiter.take(`idle${i}`);
  assert.equal(limiter.size, 50);
  c.advance(61_000);
  limiter.take('active');
  assert.equal(limiter.size, 1, 'users idle for a whole window are swept');
  for (let i = 0; i < 1000; i++) limiter.take(`burst${i}`);
  assert.ok(limiter.size <= 100, `size ${String(limiter.size)} <= maxUsers`);
  limiter.take('burst999');
  assert.equal(limiter.take('burst999').ok, false, 'recent users are still limited');
});

test('TokenBudget: a rolling 60 s window', () => {
  const c = clock();
  const budget = new TokenBudget({ tokensPerMinute: 12_000, now: c.now });
  assert.deepEqual(budget.tryTake(7_000), { ok: true }); // t=0
  c.advance(20_000);
  assert.deepEqual(budget.tryTake(4_000), { ok: true }); // t=20
  c.advance(10_000);
  assert.deepEqual(budget.tryTake(2_000), { ok: false, retryInMs: 30_000 }, 'waits for the t=0 spending to leave'); // t=30
  assert.equal(budget.usedTokens, 11_000);
  c.advance(30_000);
  assert.deepEqual(budget.tryTake(2_000), { ok: true }); // t=60: the 7,000 expired
  assert.equal(budget.usedTokens, 6_000);
  assert.deepEqual(budget.tryTake(12_001), { ok: false, retryInMs: 60_000, tooLarge: true });
});

test('TokenBudget: refund and settle correct the estimate', () => {
  const c = clock();
  const budget = new TokenBudget({ tokensPerMinute: 10_000, now: c.now });
  assert.equal(budget.tryTake(6_000).ok, true);
  budget.settle(6_000, 2_500); // the answer was short
  assert.equal(budget.usedTokens, 2_500);
  assert.equal(budget.tryTake(7_000).ok, true);
  budget.refund(7_000); // the call never happened
  assert.equal(budget.usedTokens, 2_500);
  assert.equal(budget.tryTake(3_000).ok, true);
  budget.settle(3_000, 4_000); // it used more than estimated
  assert.equal(budget.usedTokens, 6_500);
  const refused = budget.tryTake(5_000);
  assert.equal(refused.ok, false);
  budget.refund(1e9);
  assert.equal(budget.usedTokens, 0, 'refunds never go below zero');
  assert.equal(budget.tryTake(10_000).ok, true);
});
