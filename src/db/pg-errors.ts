/** Postgres and PGlite errors → one clear line as a typed error (never the URL or its password). */
import { DependencyError, UserError } from '../errors.js';

interface PgLikeError {
  code?: string;
  message?: string;
  errno?: number;
  address?: string;
  port?: number;
}

export const PGVECTOR_HINT =
  'the Postgres server has no "vector" extension: install pgvector (Debian/Ubuntu: apt install postgresql-NN-pgvector; ' +
  'Supabase/Neon: enable the "vector" extension; Fly Postgres: use an image with pgvector), then run `copilot db migrate`';

export function databaseError(err: unknown, description: string): Error {
  if (err instanceof DependencyError || err instanceof UserError) return err;
  const e = (err ?? {}) as PgLikeError;
  const message = e.message ?? String(err);
  switch (e.code) {
    case 'ECONNREFUSED':
      return new DependencyError(
        `cannot connect to the database at ${description}: connection refused — is Postgres running? Check DATABASE_URL`,
        'database_unreachable',
        { cause: err },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new DependencyError(
        `cannot connect to the database at ${description}: host not found — check DATABASE_URL`,
        'database_unreachable',
        { cause: err },
      );
    case 'ETIMEDOUT':
    case 'ECONNRESET':
      return new DependencyError(`the database at ${description} did not answer (${e.code})`, 'database_unreachable', {
        cause: err,
      });
    case '28P01':
    case '28000':
      return new DependencyError(
        `the database at ${description} refused the login: ${message} — check the user and password in DATABASE_URL`,
        'database_auth',
        { cause: err },
      );
    case '3D000':
      return new DependencyError(`the database at ${description} does not exist: ${message}`, 'database_missing', {
        cause: err,
      });
    case '25P03':
      return new DependencyError(`the database at ${description} ended this session: ${message}`, 'database_unavailable', { cause: err });
    case '57P01':
    case '57P03':
      return new DependencyError(`the database at ${description} is shutting down or starting: ${message}`, 'database_unavailable', {
        cause: err,
      });
  }
  if (/timeout expired|Connection terminated|not queryable/i.test(message)) {
    return new DependencyError(`the database at ${description} did not answer: ${message}`, 'database_unreachable', {
      cause: err,
    });
  }
  if ((e.code === '58P01' || e.code === '0A000' || e.code === '42704') && /vector/i.test(message)) {
    return new DependencyError(PGVECTOR_HINT, 'pgvector_missing', { cause: err });
  }
  return err instanceof Error ? err : new Error(message);
}
