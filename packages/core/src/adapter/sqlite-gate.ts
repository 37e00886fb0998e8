import { AsyncLocalStorage } from "node:async_hooks";
import { TransactionMisuseError } from "../errors.js";

/** The asynchronous transaction that holds a connection, and what it was opened with. */
interface Holder<S> {
  readonly token: symbol;
  readonly scope: S;
  readonly done: Promise<void>;
}

/**
 * One asynchronous transaction at a time on one shared SQLite connection.
 *
 * SQLite drivers give a process one connection (better-sqlite3, TypeORM's
 * and Prisma's SQLite drivers) or one write lock per file, and a BEGIN on it
 * captures every statement issued meanwhile, from anyone. So an adapter opens
 * its asynchronous transactions through the gate: calls made from inside
 * `fn` (found by async context, whichever DB they go through) run in it, and
 * calls from anywhere else wait for its end — on a promise, never by polling.
 *
 * `S` is what the transaction's callers need to join it (a transaction
 * client, a connection); {@link SqliteGate.scope} gives it back to them.
 * Get the gate of a connection with {@link sqliteGate}, so that every DB made
 * on that connection, by any adapter, shares it.
 */
export class SqliteGate<S = unknown> {
  readonly #context = new AsyncLocalStorage<symbol>();
  #holder: Holder<S> | undefined;

  /** The scope of the transaction the caller runs inside, if it was opened through this gate. */
  scope(): S | undefined {
    return this.#mine() ? this.#holder?.scope : undefined;
  }

  /** True while a transaction other than the caller's own holds the connection. */
  busy(): boolean {
    return this.#holder !== undefined && !this.#mine();
  }

  /** Resolves when no transaction other than the caller's own holds the connection. */
  async turn(): Promise<void> {
    while (this.busy()) await this.#holder?.done;
  }

  /**
   * For synchronous calls, which cannot wait: refuses one made while another
   * asynchronous transaction holds the connection (it would run inside it).
   */
  assertSyncTurn(adapter: string): void {
    if (this.busy()) {
      throw new TransactionMisuseError(
        `${adapter}: a synchronous call cannot run while an asynchronous transaction holds the connection.`,
      );
    }
  }

  /**
   * Runs `fn` as the one transaction on the connection: waits its turn, then
   * holds the gate until `fn` settles. `fn` does BEGIN … COMMIT/ROLLBACK
   * itself (or calls the ORM that does). A transaction opened from inside
   * another is refused: SQLite transactions do not nest.
   */
  async hold<T>(adapter: string, scope: S, fn: () => Promise<T>): Promise<T> {
    this.assertNotNested(adapter);
    await this.turn();
    let finish!: () => void;
    const token = Symbol("transaction");
    this.#holder = { token, scope, done: new Promise<void>((resolve) => (finish = resolve)) };
    try {
      return await this.#context.run(token, fn);
    } finally {
      this.#holder = undefined;
      finish();
    }
  }

  /**
   * Refuses a transaction opened from inside one this gate holds for the
   * caller. For adapters whose ORM begins before {@link SqliteGate.hold} can
   * run (the BEGIN would wait for the write lock its own caller holds).
   */
  assertNotNested(adapter: string): void {
    if (this.#mine()) {
      throw new TransactionMisuseError(
        `${adapter}: transactions do not nest; use the \`tx\` you were given.`,
      );
    }
  }

  #mine(): boolean {
    return this.#holder !== undefined && this.#context.getStore() === this.#holder.token;
  }
}

const gates = new WeakMap<object, SqliteGate<unknown>>();

/**
 * The gate of a connection (a better-sqlite3 Database, a DataSource, a
 * client): made on first use, then shared by every DB on that connection.
 */
export function sqliteGate<S>(connection: object): SqliteGate<S> {
  let gate = gates.get(connection);
  if (!gate) {
    gate = new SqliteGate<unknown>();
    gates.set(connection, gate);
  }
  return gate as SqliteGate<S>;
}
