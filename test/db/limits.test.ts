/**
 * The limits shared through the database: the same decisions as the in-process ones (the same
 * scenarios run against both), atomic across pools and connections, spending of a process that
 * died leaving with the window, and tables kept small by the statements themselves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TokenBudget, UserRateLimiter } from '../../src/answer/limits.js';
import type { TokenLimit, TokenReservation, UserLimit } from '../../src/answer/shared-limits.js';
import { memoryTokenLimit, memoryUserLimit, SharedTokenBudget, SharedUserRateLimiter } from '../../src/answer/shared-limits.js';
import type { Db } from '../../src/db/backend.js';
import { reserveTokens, spendingRows, takeUserQuestion, tokensUsed, trackedUsers } from '../../src/db/limits.js';
import { openDatabase } from '../../src/db/open.js';
import { BACKENDS, createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

function clock(start = 1_000_000_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

interface Limits {
  users(perMinute: number, now: () => number): UserLimit;
  tokens(tokensPerMinute: number, now: () => number): TokenLimit;
  /** Empties the shared tables between scenarios (nothing for the in-process limits). */
  reset(): Promise<void>;
}

/** The scenarios of test/unit/limits.test.ts, against either implementation. */
function scenarios(name: string, limits: () => Limits): void {
  describe(`limits: the in-process scenarios (${name})`, () => {
    test('question limit: perMinute in a sliding window, one notice per refusal streak', async () => {
      await limits().reset();
      const c = clock();
      const limiter = limits().users(3, c.now);
      assert.deepEqual(await limiter.take('u1'), { ok: true }); // t=0
      c.advance(10_000);
      assert.deepEqual(await limiter.take('u1'), { ok: true }); // t=10
      c.advance(10_000);
      assert.deepEqual(await limiter.take('u1'), { ok: true }); // t=20
      c.advance(5_000);
      assert.deepEqual(await limiter.take('u1'), { ok: false, retryInMs: 35_000, firstRefusal: true }); // t=25
      c.advance(5_000);
      assert.deepEqual(await limiter.take('u1'), { ok: false, retryInMs: 30_000, firstRefusal: false }); // t=30
      assert.deepEqual(await limiter.take('u2'), { ok: true }, 'other users are not affected');
      c.advance(29_999);
      assert.equal((await limiter.take('u1')).ok, false, 'just before the first request leaves the window');
      c.advance(1);
      assert.deepEqual(await limiter.take('u1'), { ok: true }, 'the window slid past the first request'); // t=60
      const again = await limiter.take('u1');
      assert.deepEqual(again, { ok: false, retryInMs: 10_000, firstRefusal: true }, 'a new streak gets a new notice');
    });

    test('token budget: a rolling 60 s window', async () => {
      await limits().reset();
      const c = clock();
      const budget = limits().tokens(12_000, c.now);
      assert.equal((await budget.reserve(7_000)).ok, true); // t=0
      c.advance(20_000);
      assert.equal((await budget.reserve(4_000)).ok, true); // t=20
      c.advance(10_000);
      assert.deepEqual(await budget.reserve(2_000), { ok: false, retryInMs: 30_000 }, 'waits for the t=0 spending to leave'); // t=30
      assert.equal(await budget.usedTokens(), 11_000);
      c.advance(30_000);
      assert.equal((await budget.reserve(2_000)).ok, true); // t=60: the 7,000 expired
      assert.equal(await budget.usedTokens(), 6_000);
      assert.deepEqual(await budget.reserve(12_001), { ok: false, retryInMs: 60_000, tooLarge: true });
      assert.equal(await budget.usedTokens(), 6_000, 'a refusal takes nothing');
    });

    test('token budget: settle and refund correct the estimate', async () => {
      await limits().reset();
      const c = clock();
      const budget = limits().tokens(10_000, c.now);
      const granted = async (tokens: number): Promise<TokenReservation> => {
        const d = await budget.reserve(tokens);
        assert.ok(d.ok, `${tokens} tokens granted`);
        return d.reservation;
      };
      await budget.settle(await granted(6_000), 2_500); // the answer was short
      assert.equal(await budget.usedTokens(), 2_500);
      await budget.refund(await granted(7_000)); // the call never happened
      assert.equal(await budget.usedTokens(), 2_500);
      c.advance(1_000);
      await budget.settle(await granted(3_000), 4_000); // it used more than estimated
      assert.equal(await budget.usedTokens(), 6_500);
      const refused = await budget.reserve(5_000);
      assert.equal(refused.ok, false);
      assert.equal(!refused.ok && refused.retryInMs, 59_000, 'until the first 2,500 leave');
      c.advance(59_000);
      assert.equal(await budget.usedTokens(), 4_000);
      assert.equal((await budget.reserve(5_000)).ok, true);
      c.advance(1_000);
      assert.equal(await budget.usedTokens(), 5_000);
      assert.equal((await budget.reserve(5_000)).ok, true);
      assert.equal((await budget.reserve(1)).ok, false, 'the budget is spent');
    });
  });
}

scenarios('in process', () => ({
  users: (perMinute, now) => memoryUserLimit(new UserRateLimiter({ perMinute, now })),
  tokens: (tokensPerMinute, now) => memoryTokenLimit(new TokenBudget({ tokensPerMinute, now })),
  reset: async () => {},
}));

/** `count` handles on one database, as separate processes have: pools on Postgres, socket connections on the embedded one. */
async function openHandles(t: TestDatabase, count: number): Promise<Db[]> {
  if (t.kind === 'postgres') return Promise.all(Array.from({ length: count }, () => t.open()));
  const owner = await openDatabase(t.config, { command: 'serve', share: true });
  const others = await Promise.all(Array.from({ length: count - 1 }, () => openDatabase(t.config, { command: 'test' })));
  return [owner, ...others];
}

/** Polls (bounded) until a statement on this database waits for a lock held by another. */
async function untilWaitingOnLock(db: Db): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await db.query<{ n: number }>(
      "select count(*)::integer as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
    );
    if (rows[0]!.n > 0) return;
    await sleep(10);
  }
  throw new Error('no statement ever waited for the lock');
}

async function emptyTables(db: Db): Promise<void> {
  await db.query('delete from user_question_limits');
  await db.query('delete from token_spending');
}

for (const kind of BACKENDS) {
  let t: TestDatabase;
  let dbs: Db[] = [];
  let db: Db;

  describe(`shared limits (${kind})`, () => {
    before(async () => {
      t = await createTestDatabase(kind);
      dbs = await openHandles(t, 4);
      db = dbs[0]!;
    });
    after(async () => {
      // The embedded owner (first) closes last: the others reach it through its socket.
      for (const d of [...dbs].reverse()) await d.close();
      await t.cleanup();
    });

    scenarios(kind, () => ({
      users: (perMinute, now) => new SharedUserRateLimiter({ db, perMinute, now }),
      tokens: (tokensPerMinute, now) => new SharedTokenBudget({ db, tokensPerMinute, now }),
      reset: () => emptyTables(db),
    }));

    describe(`shared limits: across connections (${kind})`, () => {
      test('one user asking 20 times at once over 4 connections, limit 5: 5 accepted, one notice', async () => {
        await emptyTables(db);
        const limiters = dbs.map((d) => new SharedUserRateLimiter({ db: d, perMinute: 5 }));
        for (const user of ['u-a', 'u-b', 'u-c']) {
          const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => limiters[i % limiters.length]!.take(user)));
          assert.equal(decisions.filter((d) => d.ok).length, 5, `${user}: exactly 5 accepted`);
          const refused = decisions.filter((d) => !d.ok);
          assert.equal(refused.filter((d) => d.firstRefusal).length, 1, `${user}: exactly one notice`);
          for (const d of refused) assert.ok(d.retryInMs >= 1 && d.retryInMs <= 60_000, `retry in ${d.retryInMs} ms`);
        }
        // Many users at once: each is counted on its own.
        const users = Array.from({ length: 10 }, (_, i) => `many-${i}`);
        const all = await Promise.all(
          users.flatMap((u, j) => Array.from({ length: 8 }, (_, i) => limiters[(i + j) % 4]!.take(u).then((d) => ({ u, d })))),
        );
        for (const u of users) {
          const mine = all.filter((x) => x.u === u).map((x) => x.d);
          assert.equal(mine.filter((d) => d.ok).length, 5, `${u}: 5 accepted`);
          assert.equal(mine.filter((d) => !d.ok && d.firstRefusal).length, 1, `${u}: one notice`);
        }
        assert.equal(await trackedUsers(db), 13);
      });

      test('expired users coming back at once over 4 connections: no deadlock, and no fresh row swept', async () => {
        await emptyTables(db);
        const users = Array.from({ length: 240 }, (_, i) => `back-${i}`);
        const past = new Date(Date.now() - 10 * 60_000);
        for (const u of users) await takeUserQuestion(db, u, 5, { now: past.getTime() });
        for (let round = 0; round < 8; round++) {
          // Each question sweeps other users' expired rows while those users ask too.
          await db.query('update user_question_limits set times = array[$1::timestamptz], last_at = $1, refusals = 0', [past]);
          const decisions = await Promise.all(users.map((u, i) => takeUserQuestion(dbs[i % 4]!, u, 5)));
          assert.equal(decisions.filter((d) => d.ok).length, users.length, 'every user is let in');
          assert.equal(await trackedUsers(db), users.length, 'rows renewed by a question are never swept');
        }
      });

      test('a question that waited for the user row reads the clock after the wait: never told to wait longer than the window', async () => {
        await emptyTables(db);
        const windowMs = 5_000;
        await takeUserQuestion(db, 'waiter', 2, { windowMs });
        const { pending } = await db.transaction(async (tx) => {
          await tx.query('select 1 from user_question_limits where user_id = $1 for update', ['waiter']);
          const pending = takeUserQuestion(dbs[1]!, 'waiter', 2, { windowMs }); // waits for the row
          pending.catch(() => {});
          // On Postgres, until the waiter is blocked on the row (it has read the clock by then). The
          // embedded database runs one transaction at a time: the waiter starts after this one.
          if (kind === 'postgres') await untilWaitingOnLock(dbs[2]!);
          // Meanwhile the user's two questions of the window are taken, later than the waiter began.
          await tx.query(
            'update user_question_limits set times = array[clock_timestamp(), clock_timestamp()], last_at = clock_timestamp(), refusals = 0 where user_id = $1',
            ['waiter'],
          );
          return { pending };
        });
        const d = await pending;
        assert.ok(!d.ok && d.firstRefusal, JSON.stringify(d));
        assert.ok(d.retryInMs <= windowMs, `retry in ${d.retryInMs} ms, the window is ${windowMs}`);
      });

      test('concurrent reservations over 4 connections never exceed the budget, and refuse only when they must', async () => {
        await emptyTables(db);
        const budgets = dbs.map((d) => new SharedTokenBudget({ db: d, tokensPerMinute: 12_000 }));
        const even = await Promise.all(Array.from({ length: 40 }, (_, i) => budgets[i % 4]!.reserve(1_000)));
        assert.equal(even.filter((d) => d.ok).length, 12, 'exactly 12 of 1,000 fit in 12,000');
        assert.equal(await tokensUsed(db), 12_000);
        for (const d of even) if (!d.ok) assert.ok(d.retryInMs >= 1 && d.retryInMs <= 60_000 && !d.tooLarge);

        await emptyTables(db);
        const sizes = Array.from({ length: 60 }, (_, i) => 1 + ((i * 7919) % 3_000));
        const mixed = await Promise.all(sizes.map((n, i) => budgets[i % 4]!.reserve(n).then((d) => ({ n, d }))));
        const accepted = mixed.filter((x) => x.d.ok);
        const spent = accepted.reduce((s, x) => s + x.n, 0);
        assert.ok(spent <= 12_000, `${spent} tokens reserved, at most 12,000`);
        assert.equal(await tokensUsed(db), spent);
        for (const x of mixed) if (!x.d.ok) assert.ok(spent + x.n > 12_000, `${x.n} tokens refused although ${spent} were spent`);

        // Settled and refunded from other connections at once: what is left is the real usage.
        const reservations = accepted.map((x) => (x.d.ok ? x.d.reservation : null)!);
        await Promise.all(
          reservations.map((r, i) =>
            i % 2 === 0 ? budgets[(i + 1) % 4]!.settle(r, Math.floor(r.tokens / 2)) : budgets[(i + 2) % 4]!.refund(r),
          ),
        );
        const expected = reservations.reduce((s, r, i) => s + (i % 2 === 0 ? Math.floor(r.tokens / 2) : 0), 0);
        assert.equal(await tokensUsed(db), expected);
      });

      test('a reservation whose process died stops counting once it leaves the window', async () => {
        await emptyTables(db);
        const windowMs = 400;
        // A separate handle that reserves the whole budget and is closed without settling.
        const dying = t.kind === 'postgres' ? await t.open() : await openDatabase(t.config, { command: 'test' });
        const lost = await new SharedTokenBudget({ db: dying, tokensPerMinute: 10_000, windowMs }).reserve(10_000);
        assert.equal(lost.ok, true);
        await dying.close();
        const budget = new SharedTokenBudget({ db: dbs[1]!, tokensPerMinute: 10_000, windowMs });
        const refused = await budget.reserve(1);
        assert.ok(!refused.ok && refused.retryInMs >= 1 && refused.retryInMs <= windowMs, JSON.stringify(refused));
        await sleep(refused.retryInMs + 20);
        const later = await budget.reserve(10_000);
        assert.equal(later.ok, true, 'the dead reservation left the window');
        assert.equal(await spendingRows(db), 1, 'and was deleted');
      });

      test('the question limit on the database clock, with a short window', async () => {
        await emptyTables(db);
        const windowMs = 400;
        const a = new SharedUserRateLimiter({ db: dbs[1]!, perMinute: 2, windowMs });
        const b = new SharedUserRateLimiter({ db: dbs[2]!, perMinute: 2, windowMs });
        assert.deepEqual(await a.take('clock-user'), { ok: true });
        assert.deepEqual(await b.take('clock-user'), { ok: true });
        const first = await a.take('clock-user');
        assert.ok(!first.ok && first.firstRefusal && first.retryInMs >= 1 && first.retryInMs <= windowMs, JSON.stringify(first));
        const second = await b.take('clock-user');
        assert.ok(!second.ok && !second.firstRefusal, 'silent after the notice');
        await sleep(first.retryInMs + 20);
        assert.deepEqual(await b.take('clock-user'), { ok: true }, 'the window let the user in again');
      });
    });

    describe(`shared limits: details (${kind})`, () => {
      test('users idle for a whole window are deleted by later questions; recent ones stay limited', async () => {
        await emptyTables(db);
        const c = clock();
        const take = (user: string) => takeUserQuestion(db, user, 2, { now: c.now() });
        for (let i = 0; i < 150; i++) await take(`idle${i}`);
        assert.equal(await trackedUsers(db), 150);
        c.advance(60_000);
        for (let i = 0; i < 3; i++) await take('active');
        assert.equal(await trackedUsers(db), 1, 'the idle users are gone');
        assert.deepEqual(await take('active'), { ok: false, retryInMs: 60_000, firstRefusal: false }, 'the active user is still limited');

        // Steady arrivals: one new user every 10 ms with a 1 s window keeps the window's 100 rows.
        await emptyTables(db);
        let most = 0;
        for (let i = 0; i < 600; i++) {
          await takeUserQuestion(db, `steady${i}`, 2, { now: c.now(), windowMs: 1_000 });
          c.advance(10);
          if (i % 50 === 49) most = Math.max(most, await trackedUsers(db));
        }
        assert.equal(most, 100, "the window's users");
      });

      test('spending rows are deleted as they leave the window', async () => {
        await emptyTables(db);
        const c = clock();
        let most = 0;
        for (let i = 0; i < 300; i++) {
          const d = await reserveTokens(db, 100, 1_000_000, { now: c.now(), windowMs: 1_000 });
          assert.equal(d.ok, true);
          c.advance(50);
          if (i % 25 === 24) most = Math.max(most, await spendingRows(db));
        }
        assert.equal(most, 20, "the window's 20 reservations");
      });

      test('a lowered limit waits until enough questions leave the window', async () => {
        await emptyTables(db);
        const c = clock();
        for (let i = 0; i < 5; i++) {
          assert.deepEqual(await takeUserQuestion(db, 'u', 5, { now: c.now() }), { ok: true });
          c.advance(1_000);
        }
        c.advance(5_000); // t=10 s; questions at 0..4 s
        assert.deepEqual(await takeUserQuestion(db, 'u', 3, { now: c.now() }), { ok: false, retryInMs: 52_000, firstRefusal: true });
        c.advance(52_000);
        assert.deepEqual(
          await takeUserQuestion(db, 'u', 3, { now: c.now() }),
          { ok: true },
          'at 62 s only the questions of 3 and 4 s remain',
        );
      });

      test('settling after the window, refunding twice, and reserving nothing', async () => {
        await emptyTables(db);
        const c = clock();
        const budget = new SharedTokenBudget({ db, tokensPerMinute: 10_000, now: c.now });
        const short = await budget.reserve(5_000);
        const long = await budget.reserve(2_000);
        assert.ok(short.ok && long.ok);
        c.advance(61_000);
        const fresh = await budget.reserve(1_000);
        assert.ok(fresh.ok);
        await budget.settle(short.reservation, 3_000); // lower than reserved, but it left the window anyway
        assert.equal(await budget.usedTokens(), 1_000);
        await budget.settle(long.reservation, 4_000); // a late shortfall is charged now
        assert.equal(await budget.usedTokens(), 3_000);

        await budget.refund(fresh.reservation);
        await budget.refund(fresh.reservation);
        assert.equal(await budget.usedTokens(), 2_000, 'a second refund gives nothing more back');

        const nothing = await budget.reserve(0);
        assert.deepEqual(nothing, { ok: true, reservation: { id: null, tokens: 0 } });
        assert.ok(nothing.ok);
        const rows = await spendingRows(db);
        await budget.settle(nothing.reservation, 500);
        assert.equal(await budget.usedTokens(), 2_500);
        assert.equal(await spendingRows(db), rows + 1);
        assert.throws(() => new SharedTokenBudget({ db, tokensPerMinute: 0 }), RangeError);
        assert.throws(() => new SharedUserRateLimiter({ db, perMinute: 0 }), RangeError);
      });
    });
  });
}
