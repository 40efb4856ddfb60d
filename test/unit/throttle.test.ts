import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EditThrottle } from '../../src/bot/throttle.js';

test('EditThrottle: at most one edit per interval', () => {
  let t = 0;
  const th = new EditThrottle({ intervalMs: 1200, now: () => t });
  assert.equal(th.shouldEdit(), true, 'before anything is posted');
  assert.equal(th.delayUntilNext(), 0);
  th.markEdited(); // the reply was posted at t=0
  t = 500;
  assert.equal(th.shouldEdit(), false);
  assert.equal(th.delayUntilNext(), 700);
  t = 1200;
  assert.equal(th.shouldEdit(), true);
  th.markEdited();
  t = 2399;
  assert.equal(th.shouldEdit(), false);
  assert.equal(th.delayUntilNext(), 1);
});

test('EditThrottle: a 429 Retry-After pushes the next edit back, and never pulls it forward', () => {
  let t = 0;
  const th = new EditThrottle({ intervalMs: 1200, now: () => t });
  th.markEdited();
  th.backOff(5_000);
  t = 1200;
  assert.equal(th.shouldEdit(), false);
  assert.equal(th.delayUntilNext(), 3_800);
  th.backOff(100);
  assert.equal(th.delayUntilNext(), 3_800, 'a shorter Retry-After does not shorten the wait');
  t = 5_000;
  assert.equal(th.shouldEdit(), true);
});

test('EditThrottle: a simulated 10 s stream of deltas every 50 ms edits about once per 1.2 s', () => {
  let t = 0;
  const th = new EditThrottle({ intervalMs: 1200, now: () => t });
  const edits: number[] = [];
  th.markEdited(); // posted
  for (t = 50; t <= 10_000; t += 50) {
    if (th.shouldEdit()) {
      edits.push(t);
      th.markEdited();
    }
  }
  assert.equal(edits.length, 8);
  for (let i = 1; i < edits.length; i++) assert.ok(edits[i]! - edits[i - 1]! >= 1200);
});
