// long: one schema for every environment variable, with its messages, and the mapping to the typed config the rest of the code reads.
/**
 * Environment (plus `.env` in the working directory, read with node:util parseEnv, plus the
 * operator profile written by `copilot config set`) → one zod schema → one validated, frozen
 * Config. Every problem is reported at once as `NAME: what is wrong`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod/v3';
import { UserError } from './errors.js';
import { parseShardList, shardCountProblem } from './serve/shards.js';
import { wholeNumberIn, wholeNumberProblem } from './validate.js';

export const DEFAULT_GROQ_MODEL = 'llama-3.3-70b-versatile';
export const DEFAULT_GROQ_REWRITE_MODEL = 'llama-3.1-8b-instant';
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
  /** Slash commands are registered on this guild only (instant) instead of globally. */
  discordCommandsGuild: string | null;
  groqApiKey: string | null;
  groqBaseUrl: string | null;
  groqModel: string;
  /** Small fast model that rewrites a follow-up as a standalone question for retrieval. */
  groqRewriteModel: string;
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
  /** SHARDS as given (`0,2` or `0-3`, checked): this process's shard ids; null → every shard. */
  shards: string | null;
  /** SHARD_COUNT as given (a number or `auto`, checked); null → not set (auto). */
  shardCount: string | null;
  /** At most one escalation ping per conversation per this many ms. */
  escalationCooldownMs: number;
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
      if (typeof data[key] === 'string') out[key] = data[key];
    }
    return out;
  } catch (err) {
    throw new UserError(`${path}: not valid JSON — fix or delete it`, 'bad_config', { cause: err });
  }
}

/** A URL of one of `protocols` (e.g. `http:`), as `NAME: not a valid URL` or `NAME: must be a … URL`. */
function url(protocols: readonly string[]) {
  return z.string().superRefine((value, ctx) => {
    if (!URL.canParse(value)) ctx.addIssue({ code: 'custom', message: 'not a valid URL' });
    else if (!protocols.includes(new URL(value).protocol))
      ctx.addIssue({ code: 'custom', message: `must be a ${protocols.map((p) => p.replace(':', '')).join(' or ')} URL` });
  });
}

/** A whole number from `min` to `max`, `fallback` when unset (the rule flags follow too: src/validate.ts). */
function wholeNumber(min: number, max: number, fallback: number) {
  return z
    .string()
    .default(String(fallback))
    .refine(
      (value) => wholeNumberIn(value, min, max) !== null,
      (value) => ({ message: wholeNumberProblem(value, min, max) }),
    )
    .transform(Number);
}

const HTTP = ['http:', 'https:'];

/**
 * The environment variables copilot reads, each checked and converted: one schema for
 * loadConfig and `copilot config set`. Values arrive trimmed, with empty ones left out.
 *
 * The API is `zod/v3`, which the zod 4 package ships: zod 4's own API loads all 64 of its
 * locales on import, which made the start-up of every command about 50% slower.
 */
const ENV_SCHEMA = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
  DISCORD_TOKEN: z.string().optional(),
  DISCORD_API_URL: url(HTTP).optional(),
  DISCORD_COMMANDS_GUILD: z
    .string()
    .regex(/^\d{17,20}$/, 'must be a guild ID (17–20 digits)')
    .optional(),
  GROQ_API_KEY: z.string().optional(),
  GROQ_BASE_URL: url(HTTP).optional(),
  GROQ_MODEL: z.string().default(DEFAULT_GROQ_MODEL),
  GROQ_REWRITE_MODEL: z.string().default(DEFAULT_GROQ_REWRITE_MODEL),
  HF_TOKEN: z.string().optional(),
  EMBEDDINGS_URL: url(HTTP).optional(),
  EMBEDDINGS_MODEL: z.string().default(DEFAULT_EMBEDDINGS_MODEL),
  PORT: wholeNumber(0, 65535, DEFAULT_PORT),
  HOST: z.string().default('0.0.0.0'),
  STATUS_TOKEN: z
    .string()
    .regex(/^[\x21-\x7e]{16,}$/, 'must be at least 16 characters, printable ASCII without spaces (e.g. `openssl rand -hex 32`)')
    .optional(),
  LOG_LEVEL: z
    .string()
    .default('info')
    .transform((value) => value.toLowerCase())
    .refine(
      (value): value is LogLevel => (LOG_LEVELS as readonly string[]).includes(value),
      (value) => ({ message: `must be one of ${LOG_LEVELS.join(', ')} (got "${value}")` }),
    ),
  COPILOT_MAX_FILE_MB: wholeNumber(1, 2048, 25),
  COPILOT_USER_RATE_PER_MINUTE: wholeNumber(1, 10_000, 5),
  GROQ_TOKENS_PER_MINUTE: wholeNumber(100, 10_000_000, 12_000),
  COPILOT_HISTORY_LIMIT: wholeNumber(0, 200, 10),
  DISCORD_REST_GLOBAL_RPS: wholeNumber(1, 100_000, 50),
  SHARDS: z
    .string()
    .superRefine((value, ctx) => {
      const parsed = parseShardList(value);
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
    })
    .optional(),
  SHARD_COUNT: z
    .string()
    .superRefine((value, ctx) => {
      const problem = shardCountProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  COPILOT_ESCALATION_COOLDOWN_MINUTES: wholeNumber(0, 10_080, 10),
});
type EnvName = keyof typeof ENV_SCHEMA.shape;
const ENV_NAMES = Object.keys(ENV_SCHEMA.shape) as EnvName[];

/** Every problem of a failed parse, one `NAME: message` line each. */
function problems(error: z.ZodError): string[] {
  return error.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message));
}

/** What is wrong with `value` for the variable `name` (as `config set` stores it), or null. */
export function settingProblem(name: (typeof PROFILE_KEYS)[ProfileKey], value: string): string | null {
  const result = ENV_SCHEMA.shape[name].safeParse(value);
  return result.success ? null : (result.error.issues[0]?.message ?? 'not a valid value');
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

  // DATABASE_URL may also come from --database-url; where it came from is kept for messages.
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

  const raw: Partial<Record<EnvName, string>> = {};
  for (const name of ENV_NAMES) raw[name] = get(name);
  raw.DATABASE_URL = rawDatabaseUrl;
  raw.HF_TOKEN ??= get('HUGGINGFACE_API_KEY');
  const parsed = ENV_SCHEMA.safeParse(raw);
  if (badHome || !parsed.success) {
    throw new UserError([...(badHome ? [badHome] : []), ...(parsed.success ? [] : problems(parsed.error))].join('\n'), 'bad_config');
  }
  const e = parsed.data;
  return Object.freeze({
    databaseUrl: e.DATABASE_URL ?? null,
    databaseUrlSource: e.DATABASE_URL ? databaseUrlSource : null,
    home,
    discordToken: e.DISCORD_TOKEN ?? null,
    discordApiUrl: e.DISCORD_API_URL ?? null,
    discordCommandsGuild: e.DISCORD_COMMANDS_GUILD ?? null,
    groqApiKey: e.GROQ_API_KEY ?? null,
    groqBaseUrl: e.GROQ_BASE_URL ?? null,
    groqModel: e.GROQ_MODEL,
    // Unlike other variables, an empty GROQ_REWRITE_MODEL is a value: no rewrite.
    groqRewriteModel: merged.GROQ_REWRITE_MODEL !== undefined && merged.GROQ_REWRITE_MODEL.trim() === '' ? '' : e.GROQ_REWRITE_MODEL,
    hfToken: e.HF_TOKEN ?? null,
    embeddingsUrl: e.EMBEDDINGS_URL ?? null,
    embeddingsModel: e.EMBEDDINGS_MODEL,
    port: e.PORT,
    host: e.HOST,
    statusToken: e.STATUS_TOKEN ?? null,
    logLevel: e.LOG_LEVEL,
    maxFileBytes: e.COPILOT_MAX_FILE_MB * 1024 * 1024,
    userRatePerMinute: e.COPILOT_USER_RATE_PER_MINUTE,
    groqTokensPerMinute: e.GROQ_TOKENS_PER_MINUTE,
    historyLimit: e.COPILOT_HISTORY_LIMIT,
    discordRestRps: e.DISCORD_REST_GLOBAL_RPS,
    shards: e.SHARDS ?? null,
    shardCount: e.SHARD_COUNT ?? null,
    escalationCooldownMs: e.COPILOT_ESCALATION_COOLDOWN_MINUTES * 60_000,
  });
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
