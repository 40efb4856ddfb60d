/**
 * The one small interface between copilot and its database. Two backends implement it:
 * `pg` (a Pool, for DATABASE_URL) and PGlite (the embedded default). The same SQL runs on both.
 */
export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * On a transaction's handle where the backend can tell: resolves with the error when the
   * connection is lost between statements (a transaction waiting on other work learns at once).
   */
  readonly lost?: Promise<Error>;
}

export type BackendKind = 'postgres' | 'embedded';

export interface Db extends Queryable {
  readonly kind: BackendKind;
  /** How it is reached, for messages: a host:port/db, or the embedded data folder. */
  readonly description: string;
  /** Runs fn in one transaction on one connection; commits, or rolls back if fn throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Calls onNotify for NOTIFYs on channel, where the backend delivers them; returns a stop
   * function, or null where notifications do not reach this process (poll instead).
   */
  listen?(channel: string, onNotify: (payload: string) => void): Promise<(() => Promise<void>) | null>;
  close(): Promise<void>;
}
