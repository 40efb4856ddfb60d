/**
 * Everything the CLI prints goes through here. With --json, stdout carries exactly one JSON
 * document. Without it: tables and colour on a TTY (and not with NO_COLOR), plain
 * tab-separated columns otherwise; progress only on a TTY's stderr. Text printed without --json
 * loses its control characters (stored Discord messages could otherwise drive the terminal).
 */
import type { Writable } from 'node:stream';

export interface Output {
  readonly json: boolean;
  readonly stdoutTTY: boolean;
  readonly stderrTTY: boolean;
  readonly color: boolean;
  /** The one JSON document (with --json). */
  data(value: unknown): void;
  /** A line of text on stdout (ignored with --json). */
  line(text?: string): void;
  /** Text on stdout as it comes, without a newline (ignored with --json): a streamed answer. */
  write(text: string): void;
  /** A table on stdout (ignored with --json). */
  table(head: string[], rows: (string | number | null)[][]): Promise<void>;
  /** A notice on stderr (shown with --json too: it never touches stdout). */
  note(text: string): void;
  warn(text: string): void;
  /** Colour helpers that do nothing when colour is off. */
  style: Style;
}

export interface Style {
  dim(s: string): string;
  bold(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  red(s: string): string;
  cyan(s: string): string;
}

const plain: Style = { dim: (s) => s, bold: (s) => s, green: (s) => s, yellow: (s) => s, red: (s) => s, cyan: (s) => s };

async function chalkStyle(): Promise<Style> {
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { dim: c.dim, bold: c.bold, green: c.green, yellow: c.yellow, red: c.red, cyan: c.cyan };
}

export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

// C0 controls but tab and newline, DEL, C1 controls — or a plain colour sequence (ESC [ n m).
const CONTROL = /\u001b\[[0-9;]*m|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Text safe to print on a terminal: control characters (escape sequences, BEL, carriage returns)
 * are removed, tab and newline kept. With `keepColour`, colour sequences (ESC [ n m, which can only
 * change the colour of text) are kept: the styles this module adds are made of them.
 */
export function printable(text: string, keepColour = false): string {
  return text.replace(CONTROL, (m) => (keepColour && m.length > 1 ? m : ''));
}

/** JSON.stringify escapes C0 controls but leaves DEL and C1 raw: escape those too (same data). */
function escapeJsonControls(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export async function createOutput(options: {
  json: boolean;
  stdout?: Writable & { isTTY?: boolean };
  stderr?: Writable & { isTTY?: boolean };
}): Promise<Output> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const color = colorEnabled(stdout);
  const errColor = colorEnabled(stderr);
  const rich = (color || errColor) && !options.json ? await chalkStyle() : plain;
  const style = color ? rich : plain;
  const errStyle = errColor ? rich : plain;
  let wroteJson = false;
  return {
    json: options.json,
    stdoutTTY: Boolean(stdout.isTTY),
    stderrTTY: Boolean(stderr.isTTY),
    color,
    style,
    data(value) {
      if (!options.json) return;
      if (wroteJson) throw new Error('internal: a command printed two JSON documents');
      wroteJson = true;
      stdout.write(`${escapeJsonControls(JSON.stringify(value, jsonReplacer, 2))}\n`);
    },
    line(text = '') {
      if (!options.json) stdout.write(`${printable(text, color)}\n`);
    },
    write(text) {
      if (!options.json) stdout.write(printable(text));
    },
    async table(head, rows) {
      if (options.json) return;
      const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : printable(String(c)))));
      if (!stdout.isTTY) {
        stdout.write(`${[head, ...cells].map((r) => r.join('\t')).join('\n')}\n`);
        return;
      }
      const { default: Table } = await import('cli-table3');
      const table = new Table({
        head: head.map((h) => style.bold(h)),
        style: { head: [], border: color ? ['grey'] : [] },
        wordWrap: true,
      });
      table.push(...cells);
      stdout.write(`${table.toString()}\n`);
    },
    note(text) {
      stderr.write(`${printable(text, color || errColor)}\n`);
    },
    warn(text) {
      stderr.write(`${errStyle.yellow('warning:')} ${printable(text, color || errColor)}\n`);
    },
  };
}

/** Short, stable date-time for tables. */
export function when(date: Date | null | undefined): string {
  if (!date) return '';
  return date.toISOString().replace('T', ' ').slice(0, 19);
}

export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}
