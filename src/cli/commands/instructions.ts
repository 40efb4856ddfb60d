/** `copilot instructions show|set|edit`. */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MAX_INSTRUCTIONS_CHARS,
  instructionsHistory,
  normaliseInstructions,
  setInstructions,
  showInstructions,
} from '../../instructions/service.js';
import type { SetResult } from '../../instructions/service.js';
import { assertSnowflake } from '../../validate.js';
import { UserError } from '../../errors.js';
import type { Context } from '../context.js';
import { truncate, when } from '../output.js';

export async function show(ctx: Context, opts: { channel?: string; history?: boolean; limit: number }): Promise<void> {
  const { out } = ctx;
  if (opts.channel !== undefined) assertSnowflake(opts.channel);
  if (opts.history) {
    const entries = await ctx.withDb('instructions show', (db) => instructionsHistory(db, opts.channel, opts.limit));
    out.data(entries);
    if (entries.length === 0) {
      out.line('No changes recorded yet.');
      return;
    }
    await out.table(
      ['When', 'Who', 'Scope', 'Old', 'New'],
      entries.map((e) => [
        when(e.at),
        e.actor,
        e.target,
        e.oldValue === null ? '(none)' : truncate(e.oldValue, 40),
        truncate(e.newValue ?? '', 40),
      ]),
    );
    return;
  }
  const view = await ctx.withDb('instructions show', (db) => showInstructions(db, opts.channel));
  out.data(view);
  if (view.content === null) {
    out.note(out.style.dim('No instructions set — the bot uses its built-in default. Set them with `copilot instructions set`.'));
    return;
  }
  const from =
    view.source === 'channel'
      ? `override for channel ${view.scope}`
      : opts.channel
        ? `global (channel ${view.scope} has no override)`
        : 'global';
  out.note(out.style.dim(`# ${from}; updated ${when(view.updatedAt)} by ${view.updatedBy}`));
  out.line(view.content);
}

/**
 * The most bytes read as instructions: every text within the character limit fits (a UTF-16 unit
 * is at most 3 bytes of UTF-8), with room for surrounding whitespace; more is refused unread.
 */
const MAX_INSTRUCTIONS_BYTES = MAX_INSTRUCTIONS_CHARS * 3 + 4096;

function tooLarge(what: string): UserError {
  return new UserError(
    `${what} is too large: instructions are limited to ${MAX_INSTRUCTIONS_CHARS} characters — nothing was changed`,
    'instructions_too_long',
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of process.stdin) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_INSTRUCTIONS_BYTES) throw tooLarge('stdin');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function unreadable(path: string, reason: string, cause?: unknown): UserError {
  return new UserError(`cannot read --file ${path}: ${reason} — nothing was changed`, 'unreadable_file', { cause });
}

/** A regular file of at most MAX_INSTRUCTIONS_BYTES (a device or a pipe could be endless). */
function readFileArg(path: string): string {
  let fd: number | undefined;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) throw unreadable(path, 'it is a directory');
    if (!stats.isFile()) throw unreadable(path, 'not a regular file (use - to read stdin)');
    if (stats.size > MAX_INSTRUCTIONS_BYTES) throw tooLarge(`--file ${path}`);
    fd = openSync(path, 'r');
    // Read one byte past the limit, in case the file grew since it was checked.
    const buffer = Buffer.alloc(MAX_INSTRUCTIONS_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > MAX_INSTRUCTIONS_BYTES) throw tooLarge(`--file ${path}`);
    return buffer.subarray(0, length).toString('utf8');
  } catch (err) {
    if (err instanceof UserError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (err as Error).message;
    throw unreadable(path, reason, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function report(ctx: Context, result: SetResult): void {
  ctx.out.data(result);
  const where = result.scope === 'global' ? 'global instructions' : `instructions for channel ${result.scope}`;
  ctx.out.line(result.changed ? `${ctx.out.style.green('updated')} ${where} (${result.content.length} characters)` : `${where} unchanged`);
}

export async function set(ctx: Context, words: string[], opts: { file?: string; channel?: string }): Promise<void> {
  if (opts.channel !== undefined) assertSnowflake(opts.channel);
  const fromStdin = words.length === 1 && words[0] === '-';
  const sources = [words.length > 0, opts.file !== undefined].filter(Boolean).length;
  if (sources === 0) throw new UserError('give the instructions as TEXT, --file F, or - (stdin)', 'missing_argument');
  if (sources > 1) throw new UserError('give the instructions one way: TEXT, --file F, or - (stdin)', 'bad_input');
  let text: string;
  if (opts.file !== undefined) text = readFileArg(opts.file);
  else if (fromStdin) {
    if (process.stdin.isTTY) ctx.out.note('Reading instructions from stdin; end with Ctrl-D.');
    text = await readStdin();
  } else text = words.join(' ');
  normaliseInstructions(text); // reject empty input before touching the database
  const result = await ctx.withDb('instructions set', (db) => setInstructions(db, text, ctx.actor, opts.channel));
  report(ctx, result);
}

function editWithEditor(editor: string, current: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'copilot-instructions-'));
  const file = join(dir, 'instructions.md');
  try {
    writeFileSync(file, current, { mode: 0o600 });
    const result = spawnSync(`${editor} "${file}"`, { stdio: 'inherit', shell: true });
    if (result.status !== 0) {
      throw new UserError(`the editor (${editor}) exited with ${result.status ?? result.signal} — nothing was changed`, 'editor_failed');
    }
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function edit(ctx: Context, opts: { channel?: string }): Promise<void> {
  if (opts.channel !== undefined) assertSnowflake(opts.channel);
  const editor = process.env.VISUAL || process.env.EDITOR;
  if (!editor && !ctx.stdinTTY) {
    throw new UserError('instructions edit needs $EDITOR or a terminal — use `copilot instructions set --file F` instead', 'no_terminal');
  }
  const result = await ctx.withDb('instructions edit', async (db) => {
    const view = await showInstructions(db, opts.channel);
    // A new override starts from the global text.
    const current = view.content ?? '';
    let text: string;
    if (editor) {
      text = editWithEditor(editor, current);
    } else {
      const { multiline, isCancel } = await import('@clack/prompts');
      const answer = await multiline({
        message: opts.channel ? `Instructions for channel ${opts.channel}` : 'Global instructions',
        initialValue: current,
      });
      if (isCancel(answer)) throw new UserError('cancelled — nothing was changed', 'cancelled');
      text = answer;
    }
    return setInstructions(db, text, ctx.actor, opts.channel);
  });
  report(ctx, result);
}
