/**
 * Everything the CLI prints goes through here. With --json, stdout carries exactly one JSON
 * document. Without it: tables and colour on a TTY (and not with NO_COLOR), plain
 * tab-separated columns otherwise; progress only on a TTY's stderr.
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
      stdout.write(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
    },
    line(text = '') {
      if (!options.json) stdout.write(`${text}\n`);
    },
    async table(head, rows) {
      if (options.json) return;
      const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
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
      stderr.write(`${text}\n`);
    },
    warn(text) {
      stderr.write(`${errStyle.yellow('warning:')} ${text}\n`);
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
