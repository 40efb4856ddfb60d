/** pino, JSON on stdout; every string logged passes the secret redaction (tokens, keys, URL passwords). */
import type { DestinationStream, Logger } from 'pino';
import type { Config } from './config.js';
import { redactSecrets } from './redact.js';

function redactDeep(value: unknown, secrets: string[], depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value, secrets);
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: redactSecrets(value.message, secrets) };
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, secrets, depth + 1);
  return out;
}

export async function createLogger(config: Config, destination?: NodeJS.WritableStream): Promise<Logger> {
  const { default: pino } = await import('pino');
  const secrets = [config.discordToken, config.groqApiKey, config.hfToken, config.statusToken, config.databaseUrl].filter(
    (s): s is string => Boolean(s),
  );
  return pino(
    {
      level: config.logLevel,
      base: { app: 'copilot' },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => redactDeep(a, secrets)) as Parameters<typeof method>);
        },
      },
    },
    (destination ?? process.stdout) as DestinationStream,
  );
}
