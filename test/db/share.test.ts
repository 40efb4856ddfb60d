/**
 * The embedded database's socket (embedded backend only: it is what `serve` shares): clients
 * must authenticate, and the statements of concurrent connections never interleave in PGlite's
 * one session, even when a client leaves in the middle of a cycle or of a transaction.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { openEmbedded } from '../../src/db/embedded.js';
import { databaseError } from '../../src/db/pg-errors.js';
import { acquireLock } from '../../src/db/lock.js';
import { shareEmbedded } from '../../src/db/share.js';
import type { SharedServer } from '../../src/db/share.js';
import { DependencyError } from '../../src/errors.js';
import { createTestDatabase } from '../support/db.js';
import type { TestDatabase } from '../support/db.js';

const PASSWORD = 'per-run-secret-for-this-test';

describe('the shared embedded database socket', () => {
  let t: TestDatabase;
  let owner: Awaited<ReturnType<typeof openEmbedded>>;
  let server: SharedServer;
  const warnings: string[] = [];
  const open: pg.Client[] = [];

  /** A pg client; `password: null` connects without one. */
  async function client(password: string | null = PASSWORD): Promise<pg.Client> {
    const c = new pg.Client({
      host: '127.0.0.1',
      port: server.port,
      user: 'postgres',
      database: 'postgres',
      ...(password === null ? {} : { password }),
    });
    c.on('error', () => {});
    open.push(c);
    await c.connect();
    return c;
  }
  const count = async (c: pg.Client, v: string) =>
    (await c.query<{ n: number }>('select count(*)::int as n from share_t where v = $1', [v])).rows[0]!.n;

  before(async () => {
    t = await createTestDatabase('embedded');
    const lock = await acquireLock(t.home, 'test');
    assert.ok('held' in lock);
    owner = await openEmbedded(t.home, lock.held);
    await owner.exec('create table share_t (v text not null)');
    server = await shareEmbedded(owner.pglite, { password: PASSWORD, holdIdleMs: 1500, onWarning: (_f, m) => warnings.push(m) });
  });
  after(async () => {
    for (const c of open) await c.end().catch(() => {});
    await server.close();
    await owner.close();
    await t.cleanup();
  });

  test('no password or a wrong one: refused with 28P01 before any statement runs', async () => {
    for (const password of [null, '', 'wrong', `${PASSWORD}x`, PASSWORD.slice(0, -1)]) {
      await assert.rejects(client(password), (err: { code?: string }) => err.code === '28P01', `password ${JSON.stringify(password)}`);
    }
    // A raw client that skips the password and sends a query straight away gets nothing back but the refusal.
    const answer = await rawExchange(server.port, [startupMessage(), query("select 'leak' as v")]);
    assert.match(answer.toString('latin1'), /28P01/);
    assert.doesNotMatch(answer.toString('latin1'), /leak/);
  });

  test('eight clients at once, parameterised statements and transactions: every result is its own, nothing interleaves', async () => {
    const clients = await Promise.all(Array.from({ length: 8 }, () => client()));
    const wrong: string[] = [];
    await Promise.all(
      clients.map(async (c, i) => {
        for (let k = 0; k < 40; k++) {
          const v = `c${i}-${k}`;
          const echoed = (await c.query<{ v: string; n: number }>('select $1::text as v, $2::int + 1 as n', [v, k])).rows[0]!;
          if (echoed.v !== v || echoed.n !== k + 1) wrong.push(`${v}: got ${JSON.stringify(echoed)}`);
          await c.query('begin');
          await c.query('insert into share_t (v) values ($1)', [v]);
          if ((await count(c, v)) !== 1) wrong.push(`${v}: not seen in its own transaction`);
          await c.query(k % 2 === 0 ? 'commit' : 'rollback');
        }
      }),
    );
    assert.deepEqual(wrong, []);
    assert.equal((await clients[0]!.query<{ n: number }>("select count(*)::int as n from share_t where v like 'c%'")).rows[0]!.n, 8 * 20);
    assert.equal(warnings.length, 0, warnings.join('; '));
  });

  test('a client that leaves in the middle of a transaction: its work is rolled back and the others go on', async () => {
    const [a, b] = [await client(), await client()];
    await a.query('begin');
    await a.query("insert into share_t (v) values ('left-in-transaction')");
    const waiting = b.query<{ n: number }>("select count(*)::int as n from share_t where v = 'left-in-transaction'");
    await sleep(100);
    (a as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    assert.equal((await waiting).rows[0]!.n, 0, 'b waited for the transaction to end, and it was rolled back');
    await b.query('begin');
    await b.query("insert into share_t (v) values ('after')");
    await b.query('commit');
    assert.equal(await count(await client(), 'after'), 1);
  });

  test('a client that leaves in the middle of an extended-protocol cycle: the cycle is aborted, not committed', async () => {
    const [a, b] = [await client(), await client()];
    const conn = (
      a as unknown as {
        connection: { parse(o: object): void; bind(o: object): void; execute(o: object): void; flush(): void; stream: { destroy(): void } };
      }
    ).connection;
    conn.parse({ text: 'insert into share_t (v) values ($1)' });
    conn.bind({ values: ['unsynced'] });
    conn.execute({});
    conn.flush();
    await sleep(200);
    const waiting = count(b, 'unsynced');
    await sleep(100);
    conn.stream.destroy();
    assert.equal(await waiting, 0);
    assert.equal(await count(await client(), 'unsynced'), 0);
  });

  test('a client holding the session idle for too long is cut off (25P03) so that the others go on', async () => {
    const [a, b] = [await client(), await client()];
    const lost = new Promise<Error & { code?: string }>((resolve) => a.once('error', resolve));
    await a.query('begin');
    await a.query("insert into share_t (v) values ('idle-holder')");
    const started = Date.now();
    assert.equal(await count(b, 'idle-holder'), 0);
    assert.ok(Date.now() - started >= 1000, 'b waited while a held its transaction');
    const err = await lost;
    assert.equal(err.code, '25P03');
    const reported = databaseError(err, 'the embedded database');
    assert.ok(reported instanceof DependencyError, 'a dependency failure (exit 1), not an internal error');
    assert.match(reported.message, /ended this session: terminating connection: idle for 2 s while holding the shared embedded database/);
    assert.ok(warnings.some((w) => /idle for too long/.test(w)));
  });

  test('messages split into single bytes are put back together', async () => {
    const answer = await rawExchange(server.port, [startupMessage(), password(PASSWORD), query('select 40 + 2 as answer')], 1);
    const text = answer.toString('latin1');
    assert.match(text, /42/);
    assert.ok(answer.includes(Buffer.from('Z\0\0\0\x05I', 'latin1')), 'ends with ReadyForQuery, idle');
  });

  test('past its connection limit a client is told so (53300), and the others are unaffected', async () => {
    for (const c of open.splice(0)) await c.end().catch(() => {});
    await server.close();
    server = await shareEmbedded(owner.pglite, { password: PASSWORD, maxConnections: 2 });
    const [a] = [await client(), await client()];
    await assert.rejects(client(), (err: { code?: string }) => err.code === '53300');
    assert.equal((await a.query<{ n: number }>('select 1 as n')).rows[0]!.n, 1);
  });
});

function typed(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
function startupMessage(): Buffer {
  const params = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + params.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, params]);
}
const password = (p: string) => typed('p', Buffer.from(`${p}\0`));
const query = (sql: string) => typed('Q', Buffer.from(`${sql}\0`));

/** Sends the messages (in pieces of `piece` bytes when given) and collects the answer until the server closes or goes quiet. */
function rawExchange(port: number, messages: Buffer[], piece?: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    let quiet: NodeJS.Timeout | undefined;
    const finish = () => {
      socket.destroy();
      resolve(Buffer.concat(received));
    };
    socket.on('data', (d) => {
      received.push(d);
      clearTimeout(quiet);
      quiet = setTimeout(finish, 500);
    });
    socket.on('close', () => {
      clearTimeout(quiet);
      resolve(Buffer.concat(received));
    });
    socket.on('error', reject);
    socket.on('connect', async () => {
      const all = Buffer.concat(messages);
      const step = piece ?? all.length;
      for (let i = 0; i < all.length; i += step) {
        socket.write(all.subarray(i, i + step));
        if (piece) await sleep(1);
      }
    });
  });
}
