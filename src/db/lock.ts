/**
 * Exclusive ownership of the embedded data folder: a lock file (mode 0600) holding the owner's
 * pid, its start time and the boot id (and, while `serve` runs, the port and per-run password
 * of its database socket). PGlite corrupts a folder that two processes open, so nobody opens it
 * without holding this lock. A stale lock is taken over: its pid is dead, or is a reused pid (a
 * different boot, a different start time, or this very process, which does not hold it); the
 * take-over itself is serialised by an atomic mkdir.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DependencyError } from '../errors.js';

export const LOCK_FILE = 'copilot.lock';

export interface LockInfo {
  pid: number;
  command: string;
  startedAt: string;
  /** Linux: the owner's start time (field 22 of /proc/<pid>/stat, clock ticks since boot). */
  startTicks?: string;
  /** Linux: /proc/sys/kernel/random/boot_id when the lock was written. */
  bootId?: string;
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

/** Lock files held by this process (a lock naming our pid that is not here is stale). */
const heldHere = new Set<string>();

function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The boot id of the running kernel, or null where /proc does not tell. */
export function bootId(): string | null {
  return readProc('/proc/sys/kernel/random/boot_id')?.trim() || null;
}

/** When `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat), or null. */
export function startTicks(pid: number): string | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return null;
  // The command name (field 2) is in parentheses and may hold spaces or parentheses itself.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = fields[22 - 3];
  return ticks && /^\d+$/.test(ticks) ? ticks : null;
}

/** This process's identity, recorded in a lock it writes. */
function identity(): Pick<LockInfo, 'startTicks' | 'bootId'> {
  const ticks = startTicks(process.pid);
  const boot = bootId();
  return { ...(ticks ? { startTicks: ticks } : {}), ...(boot ? { bootId: boot } : {}) };
}

/**
 * Whether the process that wrote `info` still runs. Its pid alone is not enough (after a
 * container or machine restart the same pid — often 1 — belongs to someone else): a lock
 * naming this process that it does not hold, from another boot, or whose pid started at
 * another time is stale. Where /proc is missing, a live pid counts as the owner.
 */
export function ownerIsLive(path: string, info: LockInfo): boolean {
  if (info.pid === process.pid) return heldHere.has(path);
  if (!isAlive(info.pid)) return false;
  const boot = bootId();
  if (info.bootId && boot && info.bootId !== boot) return false;
  const ticks = info.startTicks ? startTicks(info.pid) : null;
  if (info.startTicks && ticks && info.startTicks !== ticks) return false;
  return true;
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
      now === 'unreadable'
        ? seen === 'unreadable'
        : now !== null && !ownerIsLive(path, now) && (seen === 'unreadable' || (now.pid === seen.pid && now.startedAt === seen.startedAt));
    if (stillStale) rmSync(path, { force: true });
  } finally {
    rmdirSync(guard);
  }
}

export async function acquireLock(home: string, command: string, options: { waitMs?: number } = {}): Promise<LockResult> {
  ensureHome(home);
  const path = resolve(home, LOCK_FILE);
  const deadline = Date.now() + (options.waitMs ?? 0);
  let unreadableSince = 0;
  for (;;) {
    const info: LockInfo = { pid: process.pid, command, startedAt: new Date().toISOString(), ...identity() };
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
    if (!ownerIsLive(path, current)) {
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
      heldHere.delete(path);
      process.removeListener('exit', onExit);
      const current = readLock(path);
      if (current !== null && current !== 'unreadable' && current.pid === process.pid) rmSync(path, { force: true });
    },
  };
  heldHere.add(path);
  process.on('exit', onExit);
  return lock;
}
