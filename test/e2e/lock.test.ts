/** The embedded data folder has one owner at a time: PGlite corrupts a folder two processes open. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acquireLock } from '../../src/db/lock.js';
import { runCli } from '../support/cli.js';
import { freshHome } from '../support/db.js';

const HOLDER = fileURLToPath(new URL('../support/hold-embedded.js', import.meta.url));

/** Starts a process that opens the embedded database and holds it until its stdin closes. */
async function holdDatabase(home: string): Promise<{ pid: number; release(): Promise<void> }> {
  const child = spawn(process.execPath, [HOLDER, home], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => d.includes('holding') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited ${code}`)));
  });
  return {
    pid: child.pid!,
    release: () =>
      new Promise<void>((resolve) => {
        child.on('exit', () => resolve());
        child.stdin.end();
      }),
  };
}

describe('embedded database ownership', () => {
  let home: string;
  before(() => {
    home = freshHome();
  });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('a second process finding a live owner exits 2 naming its pid, and changes nothing', async () => {
    const holder = await holdDatabase(home);
    try {
      const lock = JSON.parse(readFileSync(join(home, 'copilot.lock'), 'utf8'));
      assert.equal(lock.pid, holder.pid);
      const r = await runCli(['channels', 'add', '123456789012345678'], { env: { COPILOT_HOME: home } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`in use by copilot process ${holder.pid}`));
    } finally {
      await holder.release();
    }
    assert.equal(existsSync(join(home, 'copilot.lock')), false, 'the owner removed its lock');
    const list = await runCli(['--json', 'channels', 'list'], { env: { COPILOT_HOME: home } });
    assert.deepEqual(JSON.parse(list.stdout), [], 'the refused command wrote nothing');
  });

  test('a stale lock left by a dead process is taken over', async () => {
    // A pid that is certainly dead: a child that has already exited.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.on('exit', resolve));
    writeFileSync(join(home, 'copilot.lock'), JSON.stringify({ pid: dead.pid, command: 'serve', startedAt: new Date().toISOString() }));
    const r = await runCli(['channels', 'add', '223456789012345678'], { env: { COPILOT_HOME: home } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(home, 'copilot.lock')), false);
  });

  // Linux facts, read here independently of the lock module.
  const hasProc = existsSync('/proc/self/stat') && existsSync('/proc/sys/kernel/random/boot_id');
  const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const startTicks = (pid: number) => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
  };
  const writeLock = (info: Record<string, unknown>) =>
    writeFileSync(join(home, 'copilot.lock'), JSON.stringify({ command: 'serve', startedAt: new Date().toISOString(), ...info }), {
      mode: 0o600,
    });

  test(
    'a lock from another boot is stale even though its pid is alive now (a restarted container or machine), port or not',
    { skip: !hasProc },
    async () => {
      // The test runner is alive; the lock says it was written before a reboot, by a serve with a socket.
      writeLock({
        pid: process.pid,
        startTicks: startTicks(process.pid),
        bootId: '00000000-0000-0000-0000-000000000000',
        port: 1,
        secret: 'x',
      });
      const r = await runCli(['channels', 'add', '423456789012345671'], { env: { COPILOT_HOME: home } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(existsSync(join(home, 'copilot.lock')), false);
    },
  );

  test('a lock whose live pid started at another time is stale (the pid was reused)', { skip: !hasProc }, async () => {
    writeLock({ pid: process.pid, startTicks: String(Number(startTicks(process.pid)) + 1), bootId: bootId(), port: 1, secret: 'x' });
    const r = await runCli(['channels', 'add', '423456789012345672'], { env: { COPILOT_HOME: home } });
    assert.equal(r.code, 0, r.stderr);
  });

  test('a lock naming a live process with its start time and boot id is respected: exit 2 naming it', { skip: !hasProc }, async () => {
    writeLock({ pid: process.pid, command: 'kb ingest', startTicks: startTicks(process.pid), bootId: bootId() });
    try {
      const r = await runCli(['channels', 'add', '423456789012345673'], { env: { COPILOT_HOME: home } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`in use by copilot process ${process.pid} \\(kb ingest\\)`));
    } finally {
      rmSync(join(home, 'copilot.lock'), { force: true });
    }
  });

  test('a lock with only the pid of a live process (no start time or boot id recorded) is respected', async () => {
    writeLock({ pid: process.pid, command: 'kb ingest' });
    try {
      const r = await runCli(['channels', 'add', '423456789012345674'], { env: { COPILOT_HOME: home } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`in use by copilot process ${process.pid}`));
    } finally {
      rmSync(join(home, 'copilot.lock'), { force: true });
    }
  });

  test('a lock naming this very process, which does not hold it, is stale (pid 1 again after a container restart)', async () => {
    // Everything matches this process, as it would for a daemon that is PID 1 before and after a restart.
    writeLock({ pid: process.pid, ...(hasProc ? { startTicks: startTicks(process.pid), bootId: bootId() } : {}), port: 1, secret: 'x' });
    const result = await acquireLock(home, 'test', { waitMs: 0 });
    assert.ok('held' in result, `taken over, not ${JSON.stringify(result)}`);
    assert.equal(JSON.parse(readFileSync(join(home, 'copilot.lock'), 'utf8')).command, 'test');
    // While this process does hold it, the same lock is live: a second acquisition waits and gives up.
    const again = await acquireLock(home, 'test again', { waitMs: 0 });
    assert.ok('owner' in again && again.owner.pid === process.pid);
    result.held.release();
    assert.equal(existsSync(join(home, 'copilot.lock')), false);
  });

  test('a lock records the start time and boot id, and is readable by its owner only', { skip: !hasProc }, async () => {
    const result = await acquireLock(home, 'test', { waitMs: 0 });
    assert.ok('held' in result);
    try {
      const info = JSON.parse(readFileSync(join(home, 'copilot.lock'), 'utf8'));
      assert.deepEqual([info.pid, info.startTicks, info.bootId], [process.pid, startTicks(process.pid), bootId()]);
      assert.equal(statSync(join(home, 'copilot.lock')).mode & 0o777, 0o600);
    } finally {
      result.held.release();
    }
  });

  test('processes started together never open the folder at once: each either works or is refused, nothing is lost', async () => {
    const ids = ['323456789012345671', '323456789012345672', '323456789012345673', '323456789012345674'];
    const results = await Promise.all(ids.map((id) => runCli(['channels', 'add', id], { env: { COPILOT_HOME: home } })));
    for (const r of results) {
      assert.ok(r.code === 0 || (r.code === 2 && /in use by copilot process \d+/.test(r.stderr)), `${r.code}: ${r.stderr}`);
    }
    assert.ok(results.some((r) => r.code === 0));
    const list = await runCli(['--json', 'channels', 'list'], { env: { COPILOT_HOME: home } });
    assert.equal(list.code, 0, list.stderr);
    const stored = new Set(JSON.parse(list.stdout).map((c: { id: string }) => c.id));
    ids.forEach((id, i) => assert.equal(stored.has(id), results[i]!.code === 0, `${id} stored iff its command succeeded`));
    // The database is intact: a full scan of every table works.
    const status = await runCli(['--json', 'db', 'status'], { env: { COPILOT_HOME: home } });
    assert.equal(status.code, 0, status.stderr);
  });
});
