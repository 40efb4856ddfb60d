/** The embedded data folder has one owner at a time: PGlite corrupts a folder two processes open. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
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

  test('processes started together never open the folder at once: each either works or is refused, nothing is lost', async () => {
    const ids = ['323456789012345671', '323456789012345672', '323456789012345673', '323456789012345674'];
    const results = await Promise.all(
      ids.map((id) => runCli(['channels', 'add', id], { env: { COPILOT_HOME: home } })),
    );
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
