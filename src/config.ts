/**
 * Environment (plus `.env` in the working directory, plus the operator profile written by
 * `copilot config set`) → one validated, frozen Config. Every problem is reported at once as
 * `NAME: what is wrong`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { UserError } from './errors.js';

export const DEFAULT_GROQ_MODEL = 'llama-3.3-70b-versatile';
export const DEFAULT_EMBEDDINGS_MODEL = 'sentence-transformers/all-MiniLM-L6-v2';
export const DEFAULT_PORT = 8080;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  /** Postgres URL; null → the embedded database in `home`. */
  databaseUrl: string | null;
  /** Where databaseUrl came from, for messages (never the URL itself). */
  databaseUrlSource: 'flag' | 'env' | 'profile' | null;
  home: string;
  discordToken: string | null;
  discordApiUrl: string | null;
  groqApiKey: string | null;
  groqBaseUrl: string | null;
  groqModel: string;
  hfToken: string | null;
  embeddingsUrl: string | null;
  embeddingsModel: string;
  port: number;
  host: string;
  /** Bearer token for /status and /metrics; null → those are open like /healthz. */
  statusToken: string | null;
  logLevel: LogLevel;
  /** Largest file `kb ingest` accepts, in bytes. */
  maxFileBytes: number;
  /** Questions a user may ask per minute. */
  userRatePerMinute: number;
  /** Groq tokens per minute the bot allows itself (free tier: 12,000). */
  groqTokensPerMinute: number;
  /** Messages of history given to the model. */
  historyLimit: number;
  /** Discord REST requests per second across the bot (Discord's global limit: 50). */
  discordRestRps: number;
}

export interface ConfigOverrides {
  databaseUrl?: string;
  home?: string;
}

/** Keys an operator may store in the profile (`copilot config set KEY VALUE`). */
export const PROFILE_KEYS = {
  'database-url': 'DATABASE_URL',
  'discord-api-url': 'DISCORD_API_URL',
  'groq-base-url': 'GROQ_BASE_URL',
  'groq-model': 'GROQ_MODEL',
  'embeddings-url': 'EMBEDDINGS_URL',
  'embeddings-model': 'EMBEDDINGS_MODEL',
  'log-level': 'LOG_LEVEL',
} as const;
export type ProfileKey = keyof typeof PROFILE_KEYS;

export const PROFILE_FILE = 'config.json';

type Env = Record<string, string | undefined>;

/** Values from `.env` in `cwd` that the environment does not set already. */
export function readDotEnv(cwd: string, env: Env): Env {
  const path = join(cwd, '.env');
  if (!existsSync(path)) return env;
  let parsed: Record<string, string>;
  try {
    parsed = parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (err) {
    throw new UserError(`.env: cannot be read (${(err as Error).message})`, 'bad_config', { cause: err });
  }
  return { ...parsed, ...env };
}

/** The data folder: --home, else COPILOT_HOME (empty counts as unset), else ~/.copilot. */
export function resolveHome(env: Env, overrides: ConfigOverrides = {}): string {
  const fromEnv = env.COPILOT_HOME?.trim() ? env.COPILOT_HOME.trim() : undefined;
  const raw = overrides.home?.trim() || fromEnv || join(homedir(), '.copilot');
  return resolve(raw.startsWith('~/') ? join(homedir(), raw.slice(2)) : raw);
}

/** What is wrong with the data folder before anything is created in it, or null. */
function homeProblem(home: string, overrides: ConfigOverrides): string | null {
  const name = overrides.home !== undefined ? '--home' : 'COPILOT_HOME';
  if (overrides.home !== undefined && overrides.home.trim() === '') {
    return '--home is empty: give a folder, or leave the option out to use COPILOT_HOME or ~/.copilot';
  }
  let stats;
  try {
    stats = statSync(home, { throwIfNoEntry: false });
  } catch {
    return null; // e.g. a parent that is a file: reported when the folder is created
  }
  if (stats && !stats.isDirectory()) return `${name}: ${home} is not a directory — give a folder (it is created if missing)`;
  return null;
}

/** The operator profile, read straight from the file `conf` writes (cheap at start-up). */
export function readProfile(home: string): Partial<Record<ProfileKey, string>> {
  const path = join(home, PROFILE_FILE);
  if (!existsSync(path)) return {};
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const out: Partial<Record<ProfileKey, string>> = {};
    for (const key of Object.keys(PROFILE_KEYS) as ProfileKey[]) {
      if (typeof data[key] === 'string') out[key] = data[key] as string;
    }
    return out;
  } catch (err) {
    throw new UserError(`${path}: not valid JSON — fix or delete it`, 'bad_config', { cause: err });
  }
}

export function loadConfig(overrides: ConfigOverrides = {}, env: Env = process.env, cwd: string = process.cwd()): Config {
  const merged = readDotEnv(cwd, env);
  const home = resolveHome(merged, overrides);
  const badHome = homeProblem(home, overrides);
  const profile = badHome ? {} : readProfile(home);
  const get = (name: string): string | undefined => {
    const value = merged[name];
    if (value !== undefined && value.trim() !== '') return value.trim();
    const key = (Object.keys(PROFILE_KEYS) as ProfileKey[]).find((k) => PROFILE_KEYS[k] === name);
    const fromProfile = key ? profile[key] : undefined;
    return fromProfile !== undefined && fromProfile.trim() !== '' ? fromProfile.trim() : undefined;
  };
  const problems: string[] = badHome ? [badHome] : [];

  const url = (name: string, value: string | undefined, protocols: string[]): string | null => {
    if (value === undefined) return null;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        problems.push(`${name}: must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL`);
        return null;
      }
      return value;
    } catch {
      problems.push(`${name}: not a valid URL`);
      return null;
    }
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const value = get(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max} (got "${value}")`);
      return fallback;
    }
    return Number(value);
  };

  let databaseUrlSource: Config['databaseUrlSource'] = null;
  let rawDatabaseUrl: string | undefined;
  if (overrides.databaseUrl !== undefined) {
    rawDatabaseUrl = overrides.databaseUrl;
    databaseUrlSource = 'flag';
  } else if (merged.DATABASE_URL?.trim()) {
    rawDatabaseUrl = merged.DATABASE_URL.trim();
    databaseUrlSource = 'env';
  } else if (profile['database-url']?.trim()) {
    rawDatabaseUrl = profile['database-url'].trim();
    databaseUrlSource = 'profile';
  }
  const databaseUrl = url('DATABASE_URL', rawDatabaseUrl, ['postgres:', 'postgresql:']);
  if (!databaseUrl) databaseUrlSource = null;

  const statusToken = get('STATUS_TOKEN') ?? null;
  if (statusToken !== null && !/^[\x21-\x7e]{16,}$/.test(statusToken)) {
    problems.push('STATUS_TOKEN: must be at least 16 characters, printable ASCII without spaces (e.g. `openssl rand -hex 32`)');
  }

  const logLevel = (get('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`LOG_LEVEL: must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  const config: Config = {
    databaseUrl,
    databaseUrlSource,
    home,
    discordToken: get('DISCORD_TOKEN') ?? null,
    discordApiUrl: url('DISCORD_API_URL', get('DISCORD_API_URL'), ['http:', 'https:']),
    groqApiKey: get('GROQ_API_KEY') ?? null,
    groqBaseUrl: url('GROQ_BASE_URL', get('GROQ_BASE_URL'), ['http:', 'https:']),
    groqModel: get('GROQ_MODEL') ?? DEFAULT_GROQ_MODEL,
    hfToken: get('HF_TOKEN') ?? get('HUGGINGFACE_API_KEY') ?? null,
    embeddingsUrl: url('EMBEDDINGS_URL', get('EMBEDDINGS_URL'), ['http:', 'https:']),
    embeddingsModel: get('EMBEDDINGS_MODEL') ?? DEFAULT_EMBEDDINGS_MODEL,
    port: int('PORT', DEFAULT_PORT, 0, 65535),
    host: get('HOST') ?? '0.0.0.0',
    statusToken,
    logLevel: logLevel as LogLevel,
    maxFileBytes: int('COPILOT_MAX_FILE_MB', 25, 1, 2048) * 1024 * 1024,
    userRatePerMinute: int('COPILOT_USER_RATE_PER_MINUTE', 5, 1, 10_000),
    groqTokensPerMinute: int('GROQ_TOKENS_PER_MINUTE', 12_000, 100, 10_000_000),
    historyLimit: int('COPILOT_HISTORY_LIMIT', 10, 0, 200),
    discordRestRps: int('DISCORD_REST_GLOBAL_RPS', 50, 1, 100_000),
  };
  if (problems.length > 0) {
    throw new UserError(problems.join('\n'), 'bad_config');
  }
  return Object.freeze(config);
}

/** Host and port of a database URL, for error messages. */
export function describeDatabase(value: string): string {
  try {
    const parsed = new URL(value);
    return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
  } catch {
    return 'the configured database';
  }
}
