// long: the PostgreSQL wire protocol front of the shared embedded database is one state machine.
/**
 * The embedded database shared with other copilot processes: a small PostgreSQL-protocol server
 * on 127.0.0.1 in front of PGlite's one session. A client must give the per-run password at
 * startup; after that, each connection has the session to itself for whole protocol cycles (up
 * to ReadyForQuery) and for as long as ReadyForQuery says it is in a transaction, so statements of
 * two connections never interleave. A client that leaves mid-cycle or mid-transaction has its
 * cycle ended and its transaction rolled back before anyone else goes on.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import {
  BackendScanner,
  CANCEL_REQUEST,
  FrontendReader,
  GSSENC_REQUEST,
  PROTOCOL_3,
  SSL_REQUEST,
  authenticationCleartextPassword,
  copyFail,
  errorResponse,
  execute,
  passwordOf,
  simpleQuery,
  startupParameters,
  sync,
} from './wire.js';

export interface ShareOptions {
  password: string;
  host?: string;
  port?: number;
  maxConnections?: number;
  /** A client holding the session (mid-cycle or in a transaction) and silent this long is cut off. */
  holdIdleMs?: number;
  /** A client that has not authenticated within this time is cut off. */
  authTimeoutMs?: number;
  /** Told about clients cut off or a session that could not be cleaned up (no secrets, no SQL). */
  onWarning?: (fields: Record<string, unknown>, message: string) => void;
}

export interface SharedServer {
  readonly port: number;
  /** Open client connections. */
  connections(): number;
  close(): Promise<void>;
}

/** No client names a portal so: executing it fails, which aborts an unfinished cycle's work. */
const ABANDONED_PORTAL = 'copilot_abandoned_cycle';

class Connection {
  phase: 'startup' | 'password' | 'ready' = 'startup';
  readonly reader = new FrontendReader();
  readonly scanner = new BackendScanner();
  /** The StartupMessage, kept until the password is checked, then run in the session. */
  startup: Buffer | null = null;
  startupDue = false;
  user = 'postgres';
  pending: Buffer[] = [];
  /** Messages were run since the last ReadyForQuery: the cycle is not over. */
  inCycle = false;
  closed = false;
  /** Its leftovers in the session were cleaned up after it left. */
  cleaned = false;
  holdTimer: NodeJS.Timeout | null = null;
  constructor(readonly socket: Socket) {}

  send(bytes: Buffer): void {
    if (!this.closed && this.socket.writable) this.socket.write(bytes);
  }

  /** Sends a FATAL error and closes the connection; nothing it sends afterwards is read. */
  fail(code: string, text: string): void {
    if (!this.closed && this.socket.writable) this.socket.end(errorResponse('FATAL', code, text), () => this.socket.destroy());
    else this.socket.destroy();
    this.closed = true;
  }
}

/** Hands PGlite's session to one connection at a time, for whole cycles and transactions. */
class Session {
  private owner: Connection | null = null;
  private waiting: Connection[] = [];
  private pumping = false;
  private drainWaiters: (() => void)[] = [];

  constructor(
    private readonly db: PGlite,
    private readonly holdIdleMs: number,
    private readonly warn: NonNullable<ShareOptions['onWarning']>,
  ) {}

  /** The connection has work (or has closed): schedule it. */
  request(conn: Connection): void {
    if (conn.holdTimer) {
      clearTimeout(conn.holdTimer);
      conn.holdTimer = null;
    }
    if (this.owner !== conn && !this.waiting.includes(conn)) {
      if (conn.closed) return; // never held the session, or cleaned up already
      this.waiting.push(conn);
    }
    void this.pump();
  }

  /** Forgets a closed connection still waiting for the session with nothing to run. */
  drop(conn: Connection): void {
    const i = this.waiting.indexOf(conn);
    if (i >= 0 && conn.pending.length === 0) this.waiting.splice(i, 1);
  }

  /** Resolves once nobody holds the session and nothing runs. */
  drained(): Promise<void> {
    if (!this.pumping && !this.owner && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private async exec(conn: Connection, bytes: Buffer): Promise<void> {
    await this.db.runExclusive(() =>
      this.db.execProtocolRawStream(bytes, {
        onRawData: (data) => {
          const copy = Buffer.from(data); // PGlite reuses its buffer
          conn.scanner.push(copy);
          conn.send(copy);
        },
      }),
    );
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (;;) {
        if (!this.owner) {
          this.owner = this.waiting.shift() ?? null;
          if (!this.owner) break;
        }
        const conn = this.owner;
        try {
          if (conn.startupDue) {
            conn.startupDue = false;
            if (conn.closed) {
              this.owner = null; // gone before its startup ran: nothing of it is in the session
              continue;
            }
            await this.exec(conn, conn.startup!);
            conn.startup = null;
            conn.inCycle = !conn.scanner.endsWithReady;
            continue;
          }
          // Messages received before a client left are run, as PostgreSQL runs what it has read.
          if (conn.pending.length > 0) {
            const batch = conn.pending.length === 1 ? conn.pending[0]! : Buffer.concat(conn.pending);
            const onlyFlush = conn.pending.every((m) => m[0] === 0x48 /* H */);
            conn.pending = [];
            if (!onlyFlush) conn.inCycle = true;
            await this.exec(conn, batch);
            if (conn.scanner.endsWithReady) conn.inCycle = false;
            continue;
          }
          if (conn.closed) {
            if (!conn.cleaned) await this.cleanUp(conn);
            this.owner = null;
            continue;
          }
        } catch (err) {
          // PGlite failed outside SQL (an internal error): this client cannot go on.
          this.warn({ err: (err as Error).message }, 'embedded database session failed for a client; closing it');
          conn.closed = true;
          conn.socket.destroy();
          continue;
        }
        if (!conn.inCycle && conn.scanner.status === 'I') {
          this.owner = null; // a whole cycle done, no transaction open: others may go
          continue;
        }
        // Mid-cycle or in a transaction: wait for this client's next message (or its departure).
        conn.holdTimer ??= setTimeout(() => {
          conn.holdTimer = null;
          if (this.owner !== conn || conn.pending.length > 0 || conn.closed) return;
          this.warn(
            { idleMs: this.holdIdleMs, inTransaction: conn.scanner.status !== 'I' },
            'a client held the embedded database idle for too long; disconnected it',
          );
          conn.fail(
            '25P03',
            `terminating connection: idle for ${Math.round(this.holdIdleMs / 1000)} s while holding the shared embedded database`,
          );
          this.request(conn);
        }, this.holdIdleMs);
        conn.holdTimer.unref();
        break;
      }
    } finally {
      this.pumping = false;
      if (!this.owner && this.waiting.length === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  /**
   * Ends a departed client's unfinished cycle the way PostgreSQL does when a client goes away:
   * its work is aborted, not committed (a COPY is failed; in the extended protocol a failing
   * Execute makes the closing Sync roll the implicit transaction back). Then an open
   * transaction is rolled back.
   */
  private async cleanUp(conn: Connection): Promise<void> {
    if (conn.holdTimer) clearTimeout(conn.holdTimer);
    try {
      if (conn.inCycle || !conn.scanner.endsWithReady) {
        await this.exec(conn, Buffer.concat([copyFail('client disconnected'), execute(ABANDONED_PORTAL), sync()]));
      }
      if (conn.scanner.status !== 'I') await this.exec(conn, simpleQuery('rollback'));
      if (!conn.scanner.endsWithReady || conn.scanner.status !== 'I') {
        this.warn({ status: conn.scanner.status }, 'the embedded database session was not idle after a client left');
      }
    } catch (err) {
      this.warn({ err: (err as Error).message }, 'could not clean up after a client left the embedded database');
    }
    conn.inCycle = false;
    conn.pending = [];
    conn.cleaned = true;
  }
}

function sameSecret(given: Buffer, expected: Buffer): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return given.length > 0 && timingSafeEqual(a, b);
}

export async function shareEmbedded(db: PGlite, options: ShareOptions): Promise<SharedServer> {
  const secret = Buffer.from(options.password, 'utf8');
  const maxConnections = options.maxConnections ?? 64;
  const authTimeoutMs = options.authTimeoutMs ?? 10_000;
  const warn = options.onWarning ?? (() => {});
  const session = new Session(db, options.holdIdleMs ?? 30_000, warn);
  const connections = new Set<Connection>();
  const allClosed: (() => void)[] = [];

  const onMessage = (conn: Connection, type: string, bytes: Buffer, code?: number): void => {
    if (conn.phase === 'startup') {
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        conn.send(Buffer.from('N')); // no encryption on 127.0.0.1; the client goes on in plain text
      } else if (code === CANCEL_REQUEST) {
        conn.socket.destroy(); // cancelling is not supported
      } else if (code === PROTOCOL_3) {
        conn.startup = bytes;
        conn.user = startupParameters(bytes).user ?? 'postgres';
        conn.phase = 'password';
        conn.send(authenticationCleartextPassword());
      } else {
        conn.fail('0A000', 'unsupported frontend protocol');
      }
      return;
    }
    if (conn.phase === 'password') {
      if (type !== 'p' || !sameSecret(passwordOf(bytes), secret)) {
        conn.fail('28P01', `password authentication failed for user "${conn.user}"`);
        return;
      }
      conn.phase = 'ready';
      conn.startupDue = true;
      session.request(conn);
      return;
    }
    if (type === 'X') {
      // Terminate: whatever the client left open is ended once it is gone
      conn.closed = true;
      conn.socket.end();
      session.request(conn);
      return;
    }
    conn.pending.push(bytes);
    session.request(conn);
  };

  const server = createServer((socket) => {
    const conn = new Connection(socket);
    socket.setNoDelay(true);
    if (connections.size >= maxConnections) {
      conn.fail('53300', 'sorry, too many clients already');
      return;
    }
    connections.add(conn);
    const authTimer = setTimeout(() => conn.phase !== 'ready' && conn.socket.destroy(), authTimeoutMs);
    authTimer.unref();
    socket.on('data', (chunk: Buffer) => {
      if (conn.closed) return;
      let messages;
      try {
        messages = conn.reader.push(chunk);
      } catch {
        conn.fail('08P01', 'invalid message framing');
        return;
      }
      for (const m of messages) {
        if (conn.closed) break;
        onMessage(conn, m.type, m.bytes, m.code);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      clearTimeout(authTimer);
      conn.closed = true;
      connections.delete(conn);
      // Waiting with nothing to run: forgotten. Holding the session: it cleans up after it.
      session.drop(conn);
      session.request(conn);
      if (connections.size === 0) for (const resolve of allClosed.splice(0)) resolve();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    connections: () => connections.size,
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      const gone = connections.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => allClosed.push(resolve));
      for (const conn of connections) conn.socket.destroy();
      await Promise.all([stopped, gone]);
      await session.drained();
    },
  };
}
