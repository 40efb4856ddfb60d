/**
 * Exclusive ownership of the embedded data folder: a lock file (mode 0600) holding the owner's
 * pid (and, while `serve` runs, the port and per-run password of its database socket). PGlite corrupts a folder that two
 * processes open, so nobody opens it without holding this lock. A lock left by a dead pid is
 * taken over; the take-over itself is serialised by an atomic mkdir.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DependencyError } from '../errors.js';

export const LOCK_FILE = 'copilot.lock';

export interface LockInfo {
  pid: number;
  command: string;
  startedAt: string;
  /** Port of the owner's database socket on 127.0.0.1, when it shares the database. */
  port?: number;
  /** Password of that socket (per run; only the owner of COPILOT_HOME can read this file). */
  secret?: string;
}

export interface HeldLock {
  path: string;
  info: LockInfo;
  update(patch: Partial<LockInfo>): void;
  release(): void;
}

export type LockResult = { held: HeldLock } | { owner: LockInfo };

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLock(path: string): LockInfo | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const info = JSON.parse(text) as LockInfo;
    return typeof info.pid === 'number' ? info : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

export function ensureHome(home: string): void {
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const probe = join(home, `.write-test-${process.pid}`);
    writeFileSync(probe, '');
    rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new DependencyError(
      `COPILOT_HOME ${home} is not writable (${code}) — choose another folder with COPILOT_HOME or --home, or set DATABASE_URL`,
      'home_not_writable',
      { cause: err },
    );
  }
}

function writeNew(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(info));
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Removes a lock whose owner is dead; only one process at a time may do this. */
function takeOverStale(path: string, seen: LockInfo | 'unreadable'): void {
  const guard = `${path}.takeover`;
  try {
    mkdirSync(guard);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Someone else is taking over; a guard older than 10 s was left by a crash.
    try {
      if (Date.now() - statSync(guard).mtimeMs > 10_000) rmdirSync(guard);
    } catch {
      /* gone already */
    }
    return;
  }
  try {
    const now = readLock(path);
    const stillStale =
      now === 'unreadable' ? seen === 'unreadable' : now !== null && !isAlive(now.pid) && (seen === 'unreadable' || now.pid === seen.pid);
    if (stillStale) rmSync(path, { force: true });
  } finally {
    rmdirSync(guard);
  }
}

export async function acquireLock(
  home: string,
  command: string,
  options: { waitMs?: number } = {},
): Promise<LockResult> {
  ensureHome(home);
  const path = join(home, LOCK_FILE);
  const deadline = Date.now() + (options.waitMs ?? 0);
  let unreadableSince = 0;
  for (;;) {
    const info: LockInfo = { pid: process.pid, command, startedAt: new Date().toISOString() };
    if (writeNew(path, info)) return { held: heldLock(path, info) };
    const current = readLock(path);
    if (current === null) continue; // released between our attempts
    if (current === 'unreadable') {
      // Either being written right now, or left half-written by a crash.
      unreadableSince ||= Date.now();
      if (Date.now() - unreadableSince > 1000) takeOverStale(path, 'unreadable');
      await sleep(20);
      continue;
    }
    if (!isAlive(current.pid)) {
      takeOverStale(path, current);
      continue;
    }
    // A live owner that shares its database (serve) is used through its socket.
    if (current.port || Date.now() >= deadline) return { owner: current };
    await sleep(50);
  }
}

function heldLock(path: string, info: LockInfo): HeldLock {
  let released = false;
  const onExit = (): void => lock.release();
  const lock: HeldLock = {
    path,
    info,
    update(patch) {
      Object.assign(info, patch);
      writeFileSync(`${path}.tmp-${process.pid}`, JSON.stringify(info), { mode: 0o600 });
      // rename is atomic: readers see the old or the new content, never half of it
      renameSync(`${path}.tmp-${process.pid}`, path);
    },
    release() {
      if (released) return;
      released = true;
      process.removeListener('exit', onExit);
      const current = readLock(path);
      if (current !== null && current !== 'unreadable' && current.pid === process.pid) rmSync(path, { force: true });
    },
  };
  process.on('exit', onExit);
  return lock;
}

