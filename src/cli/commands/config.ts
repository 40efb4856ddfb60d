/** `copilot config get|set|unset|list`: the operator profile, stored with conf in COPILOT_HOME. */
import { PROFILE_FILE, PROFILE_KEYS, readProfile, settingProblem } from '../../config.js';
import { redactUrl } from '../../redact.js';
import type { ProfileKey } from '../../config.js';
import { ensureHome } from '../../db/lock.js';
import { UserError } from '../../errors.js';
import type { Context } from '../context.js';

function checkKey(key: string): ProfileKey {
  if (!(key in PROFILE_KEYS)) {
    throw new UserError(`unknown profile key "${key}" — one of: ${Object.keys(PROFILE_KEYS).join(', ')}`, 'unknown_key');
  }
  return key as ProfileKey;
}

function validate(key: ProfileKey, value: string): string {
  const v = value.trim();
  if (v === '') throw new UserError(`${key}: empty value — use \`copilot config unset ${key}\` to remove it`, 'bad_value');
  // The same checks as the environment's (config.ts).
  const problem = settingProblem(PROFILE_KEYS[key], v);
  if (problem) throw new UserError(`${key}: ${problem}`, 'bad_value');
  return v;
}

const shown = (key: ProfileKey, value: string): string => (key.endsWith('-url') ? redactUrl(value) : value);

async function store(ctx: Context) {
  ensureHome(ctx.config.home);
  const { default: Conf } = await import('conf');
  return new Conf<Record<string, string>>({
    cwd: ctx.config.home,
    configName: PROFILE_FILE.replace(/\.json$/, ''),
    configFileMode: 0o600,
    projectSuffix: '',
  });
}

export async function get(ctx: Context, key: string): Promise<void> {
  const k = checkKey(key);
  const value = readProfile(ctx.config.home)[k];
  if (value === undefined) throw new UserError(`${k} is not set in the profile`, 'not_set');
  ctx.out.data({ key: k, value: shown(k, value) });
  ctx.out.line(shown(k, value));
}

export async function set(ctx: Context, key: string, value: string): Promise<void> {
  const k = checkKey(key);
  const v = validate(k, value);
  (await store(ctx)).set(k, v);
  ctx.out.data({ key: k, value: shown(k, v) });
  ctx.out.line(`${ctx.out.style.green('set')} ${k} = ${shown(k, v)}`);
  const env = PROFILE_KEYS[k];
  if (process.env[env]) ctx.out.warn(`${env} is set in the environment and takes precedence over the profile`);
}

export async function unset(ctx: Context, key: string): Promise<void> {
  const k = checkKey(key);
  const conf = await store(ctx);
  const had = conf.has(k);
  conf.delete(k);
  ctx.out.data({ key: k, removed: had });
  ctx.out.line(had ? `${ctx.out.style.green('removed')} ${k}` : `${k} was not set`);
}

export async function list(ctx: Context): Promise<void> {
  const profile = readProfile(ctx.config.home);
  const rows = (Object.keys(PROFILE_KEYS) as ProfileKey[]).map((k) => {
    const env = PROFILE_KEYS[k];
    const value = profile[k];
    return {
      key: k,
      value: value === undefined ? null : shown(k, value),
      env,
      overriddenByEnv: Boolean(process.env[env]?.trim()),
    };
  });
  ctx.out.data(rows);
  await ctx.out.table(
    ['Key', 'Value', 'Environment'],
    rows.map((r) => [r.key, r.value ?? '', r.overriddenByEnv ? `${r.env} set (wins)` : r.env]),
  );
}
