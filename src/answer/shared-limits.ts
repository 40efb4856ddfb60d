/**
 * The question limit and the token budget as interfaces the answer service can hold either way:
 * in this process's memory (limits.ts, one process) or shared by every process through the
 * database (db/limits.ts), with the same decisions.
 */
import type { Config } from '../config.js';
import type { Db, Queryable } from '../db/backend.js';
import type { LimitOptions, TokenReservation, TokenReserveDecision } from '../db/limits.js';
import { refundTokens, reserveTokens, settleTokens, takeUserQuestion, tokensUsed } from '../db/limits.js';
import { TokenBudget, UserRateLimiter } from './limits.js';
import type { RateDecision } from './limits.js';

export type { TokenReservation, TokenReserveDecision };

/** At most so many questions per user in a sliding window. */
export interface UserLimit {
  take(userId: string): Promise<RateDecision>;
}

/**
 * A tokens-per-minute budget: reserve the estimate before calling, then settle the reservation
 * with the real usage, or refund it when no request was made (once, either way).
 */
export interface TokenLimit {
  reserve(tokens: number): Promise<TokenReserveDecision>;
  settle(reservation: TokenReservation, actual: number): Promise<void>;
  refund(reservation: TokenReservation): Promise<void>;
  /** Tokens spent or reserved in the current window. */
  usedTokens(): Promise<number>;
}

export interface SharedLimitOptions {
  db: Queryable;
  /** The window's length (default 60 s); shorter in tests. */
  windowMs?: number;
  /** Epoch milliseconds, for tests; without it the database clock decides (the one all processes share). */
  now?: () => number;
}

function limitOptions(o: SharedLimitOptions): LimitOptions {
  return { windowMs: o.windowMs, now: o.now?.() };
}

/** The per-user limit counted across every process on the database. */
export class SharedUserRateLimiter implements UserLimit {
  private readonly perMinute: number;

  constructor(private readonly o: SharedLimitOptions & { perMinute: number }) {
    if (!(o.perMinute >= 1)) throw new RangeError('perMinute must be at least 1');
    this.perMinute = Math.floor(o.perMinute);
  }

  take(userId: string): Promise<RateDecision> {
    return takeUserQuestion(this.o.db, userId, this.perMinute, limitOptions(this.o));
  }
}

/** The token budget shared by every process on the database. */
export class SharedTokenBudget implements TokenLimit {
  private readonly limit: number;

  constructor(private readonly o: SharedLimitOptions & { tokensPerMinute: number }) {
    if (!(o.tokensPerMinute >= 1)) throw new RangeError('tokensPerMinute must be at least 1');
    this.limit = o.tokensPerMinute;
  }

  reserve(tokens: number): Promise<TokenReserveDecision> {
    return reserveTokens(this.o.db, tokens, this.limit, limitOptions(this.o));
  }

  settle(reservation: TokenReservation, actual: number): Promise<void> {
    return settleTokens(this.o.db, reservation, actual, limitOptions(this.o));
  }

  refund(reservation: TokenReservation): Promise<void> {
    return refundTokens(this.o.db, reservation);
  }

  usedTokens(): Promise<number> {
    return tokensUsed(this.o.db, limitOptions(this.o));
  }
}

/** The in-process limiter behind the same interface. */
export function memoryUserLimit(limiter: UserRateLimiter): UserLimit {
  return { take: async (userId) => limiter.take(userId) };
}

/** The in-process budget behind the same interface (a reservation is its estimate). */
export function memoryTokenLimit(budget: TokenBudget): TokenLimit {
  return {
    async reserve(tokens) {
      const n = Math.max(0, Math.ceil(tokens));
      const decision = budget.tryTake(n);
      return decision.ok ? { ok: true, reservation: { id: null, tokens: n } } : decision;
    },
    async settle(reservation, actual) {
      budget.settle(reservation.tokens, actual);
    },
    async refund(reservation) {
      budget.refund(reservation.tokens);
    },
    async usedTokens() {
      return budget.usedTokens;
    },
  };
}

/**
 * The limits the answer service holds: on Postgres, shared by every process on the database; on
 * the embedded database (one process), in memory.
 */
export function limitsFor(
  db: Db,
  config: Pick<Config, 'userRatePerMinute' | 'groqTokensPerMinute'>,
): { users: UserLimit; tokens: TokenLimit } {
  if (db.kind === 'postgres') {
    return {
      users: new SharedUserRateLimiter({ db, perMinute: config.userRatePerMinute }),
      tokens: new SharedTokenBudget({ db, tokensPerMinute: config.groqTokensPerMinute }),
    };
  }
  return {
    users: memoryUserLimit(new UserRateLimiter({ perMinute: config.userRatePerMinute })),
    tokens: memoryTokenLimit(new TokenBudget({ tokensPerMinute: config.groqTokensPerMinute })),
  };
}
