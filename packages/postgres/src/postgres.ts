import { AdapterArgumentError, type DB, UnsupportedError } from "@persistent-queue/core";
import { assertIdentifier, defineDb, hasMethods } from "@persistent-queue/core/adapter";

/** What postgres.js resolves a query to: the rows, with the command's row count on the array. */
export interface PostgresJsResult extends ReadonlyArray<unknown> {
  /** Rows matched by UPDATE/DELETE, inserted by INSERT, returned by SELECT; null for others. */
  readonly count: number | null;
}

/**
 * The subset of a postgres.js `Sql`, `TransactionSql` or `ReservedSql` this
 * adapter uses for statements, typed structurally: the package never imports
 * postgres.js at run time.
 */
export interface PostgresJsHandle {
  unsafe(
    query: string,
    parameters?: unknown[],
    options?: { prepare?: boolean },
  ): PromiseLike<PostgresJsResult>;
  /** `sql.typed(value, oid)`: a parameter sent with the given type. */
  typed(value: unknown, oid: number): unknown;
}

/** A postgres.js `Sql` (what `postgres(url, options)` returns): also transactions, LISTEN and `end()`. */
export interface PostgresJsSql extends PostgresJsHandle {
  begin<T>(fn: (tx: PostgresJsHandle) => Promise<T>): Promise<unknown>;
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<{ unlisten(): Promise<void> }>;
  end(options?: { timeout?: number }): Promise<void>;
  /** The parsed options; read to refuse result transforms the queue cannot read through. */
  readonly options?: unknown;
}

/** Options of {@link fromPostgresJs}. */
export interface FromPostgresJsOptions {
  /**
   * Run the queue's statements as named prepared statements (postgres.js's
   * `unsafe(…, { prepare: true })`): one round trip instead of two, each text
   * parsed once per connection. Default true; statements that bind more than
   * 32 values (lists of jobs) are never prepared. It only takes effect when the
   * `Sql` itself prepares: made with `prepare: false` (as PgBouncer in
   * transaction mode needs), nothing is prepared whatever this says.
   */
  readonly prepare?: boolean;
}

/**
 * PostgreSQL's `unknown` type. A parameter declared with it is typed by the
 * server from where it is used, as an unspecified one is: what node-postgres
 * does with every value. postgres.js instead asks the server for the
 * parameter types and serialises each value by the answer (JSON.stringify
 * for a json parameter, `'t'`/`'f'` for a boolean one), which would turn
 * core's JSON text in `json_to_recordset($1::json)` into a JSON string and
 * the 1 bound for `true` into false. A declared type is kept, so strings and
 * numbers go out as their own text.
 */
const UNKNOWN_OID = 705;
/** timestamptz: a Date is sent as its ISO text (UTC), an instant, as postgres.js sends one. */
const TIMESTAMPTZ_OID = 1184;

/**
 * Statements with more parameters than this are not prepared. They are the ones that bind a
 * list of jobs (heartbeats, batched completions, hand-backs), whose text changes with the
 * list's length, and postgres.js keeps every text it prepared on each connection for the
 * connection's life (30 to 60 minutes by default): an UPDATE … WHERE id IN (…) run with 1 to
 * 1,000 ids, each prepared, took 84 MB of one backend's memory (PostgreSQL 15); with this
 * limit, 31 texts and 0.5 MB. Claims, inserts and single-job writes stay under it.
 */
const PREPARE_MAX_PARAMS = 32;

/**
 * A statement that only reads (a SELECT without FOR UPDATE/SHARE): run as it
 * is, since nothing of it has to be committed. Every other statement made
 * outside a transaction runs in {@link runCommitted}'s explicit one.
 */
const READ_ONLY = /^\s*select\b(?![\s\S]*\bfor\s+(?:no\s+key\s+)?(?:update|share|key\s+share)\b)/i;

/**
 * Runs a writing statement in a transaction of its own (`sql.begin()`) and
 * resolves once its COMMIT has answered. postgres.js resolves a query at its
 * CommandComplete, and outside a transaction block PostgreSQL commits the
 * statement only at the Sync after it (porsager/postgres#1090, open): a plain
 * `unsafe()` can resolve before the commit, so a crash then (or a commit
 * waiting on a synchronous standby when the primary dies) loses a write the
 * caller was told had happened, and an error raised by the commit is never
 * reported. A COMMIT's own CommandComplete comes after the commit (and after
 * synchronous replication's wait). Seen in the failover fault test: jobs
 * whose add() had resolved missing on the promoted standby, and claims run
 * whose commit never reached it.
 *
 * `begin()` waits for each of BEGIN, the statement and COMMIT (three round
 * trips). Sending the three at once on `sql.reserve()` took one round trip
 * and 1.4× a plain INSERT's time against begin()'s 2.2× (four concurrent
 * loops, loaded machine), but postgres.js 3.4.7 loses a reserve() that waits
 * while its connection reconnects (the request is dropped when the new
 * connection first fetches array types), so after a failover the queue hung;
 * and `release()` of a reserved connection that died puts it back as open.
 */
async function runCommitted<T>(
  sql: PostgresJsSql,
  statement: (conn: PostgresJsHandle) => PromiseLike<T>,
): Promise<T> {
  return (await sql.begin(async (tx) => {
    try {
      return await statement(tx);
    } catch (error) {
      // The connection died under the statement. begin() rejects by itself when postgres.js
      // reports the close; rethrowing here would make begin() send ROLLBACK on the dead
      // connection, and postgres.js 3.4.7 then throws an uncaught TypeError (it writes to a
      // socket it has already dropped): that crashed the failover test's process. So this
      // callback stays pending and begin()'s own rejection (the close) is what the caller sees.
      if (isConnectionLoss(error)) return new Promise<never>(() => {});
      throw error;
    }
  })) as T;
}

/**
 * A postgres.js error that means the connection closed under a query (not an error the
 * server sent, and not the pool being ended on purpose): begin() hears of the close too.
 */
function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "CONNECTION_CLOSED" || code === "ECONNRESET" || code === "EPIPE";
}

const EXPECTED = "a postgres.js Sql or transaction (an object with unsafe() and typed())";

/**
 * Refuses, at once, what is not a postgres.js handle: undefined, a Promise, a
 * connection string, another driver's pool. By shape: postgres.js is not imported.
 */
function assertPostgresJs(handle: unknown): asserts handle is PostgresJsHandle {
  if (!hasMethods(handle, "unsafe", "typed")) {
    throw new AdapterArgumentError("fromPostgresJs", EXPECTED, handle);
  }
}

/** The root `Sql` has begin(); a transaction, savepoint or reserved connection does not. */
const isRoot = (handle: PostgresJsHandle): handle is PostgresJsSql =>
  typeof (handle as Partial<PostgresJsSql>).begin === "function";

/**
 * Refuses an `Sql` made with result transforms (`transform: postgres.camel`,
 * value or row transforms): they rename or change every row the queue reads,
 * and postgres.js applies them per instance, not per query.
 */
function assertNoTransforms(sql: PostgresJsSql): void {
  const transform = (sql.options as { transform?: Record<string, unknown> } | undefined)?.transform;
  const from = (part: unknown) =>
    typeof (part as { from?: unknown } | undefined)?.from === "function";
  if (from(transform?.column) || from(transform?.value) || from(transform?.row)) {
    throw new UnsupportedError(
      "fromPostgresJs: this Sql transforms results (its `transform` option), so the queue cannot read its own rows; give the queue an Sql made without `transform`.",
    );
  }
}

/**
 * Adapts a postgres.js `Sql` (what `postgres(url, options)` returns), or the
 * `tx` that `sql.begin(async (tx) => …)` hands you, to the queue's `DB`.
 *
 * - Anything else (undefined, a Promise, another driver's pool) throws an
 *   `AdapterArgumentError` here, not at the first query; an `Sql` that
 *   transforms results throws an `UnsupportedError`.
 * - SQL text passes through untouched (`sql.unsafe(text, values)`; core writes
 *   `$1, $2, …`). Values bind as node-postgres binds them: strings, numbers and
 *   bigints as text of a type the server infers from the statement, Dates as
 *   timestamptz (ISO text), bytes as bytea, null as NULL, whatever the Sql's serializers.
 * - Results are postgres.js's own: int8 and numeric as strings unless the `Sql`
 *   was made with `types: { bigint: postgres.BigInt }`, whose bigints then follow
 *   core's rule (a number when it fits a safe integer). The Sql is never reconfigured.
 * - A statement that writes, run on an `Sql` (not in a transaction), resolves
 *   only once it is committed: it runs in a transaction of its own
 *   (`sql.begin()`: BEGIN, the statement, COMMIT), because postgres.js alone
 *   resolves a query before PostgreSQL commits it (porsager/postgres#1090).
 *   Reads run as they are; in a `tx` its own COMMIT decides.
 * - `affectedRows` is postgres.js's `count` (rows matched by UPDATE/DELETE).
 *   No `insertId`: PostgreSQL statements that need the id use `RETURNING`.
 * - On an `Sql`: `transaction(fn)` is `sql.begin()`, `listen()` is
 *   `sql.listen()`, `close()` is `sql.end()`. On a `tx` (or a reserved
 *   connection): statements only; `close()` leaves it alone.
 */
export function fromPostgresJs(handle: PostgresJsHandle, options: FromPostgresJsOptions = {}): DB {
  assertPostgresJs(handle);
  const prepare = options.prepare ?? true;
  const bindValue = (value: unknown) => {
    if (typeof value === "string" || typeof value === "number" || typeof value === "bigint") {
      return handle.typed(value, UNKNOWN_OID);
    }
    // As text, not left to the Sql's serializer for timestamptz: drizzle-orm/postgres-js
    // replaces it with one that passes the Date itself on, which postgres.js cannot send.
    if (value instanceof Date) return handle.typed(value.toISOString(), TIMESTAMPTZ_OID);
    return value;
  };
  const statement = (text: string, params: unknown[]) => (conn: PostgresJsHandle) =>
    conn.unsafe(text, params.map(bindValue), {
      prepare: prepare && params.length <= PREPARE_MAX_PARAMS,
    });
  const rowsOf = (result: PostgresJsResult) => ({
    rows: result,
    affectedRows: result.count ?? result.length,
  });
  // In a transaction (a `tx`) its COMMIT says when it is done; on a reserved connection the
  // caller may have begun one itself, so statements run as they are there too.
  if (!isRoot(handle)) {
    return defineDb({
      dialect: "postgres",
      run: async (text, params) => rowsOf(await statement(text, params)(handle)),
    });
  }

  const sql = handle;
  assertNoTransforms(sql);
  return defineDb({
    dialect: "postgres",
    run: async (text, params) =>
      rowsOf(
        READ_ONLY.test(text)
          ? await statement(text, params)(sql)
          : await runCommitted(sql, statement(text, params)),
      ),
    close: () => sql.end(),
    transaction: async <T>(fn: (tx: DB) => Promise<T>): Promise<T> => {
      // postgres.js commits when the callback resolves and rolls back (then
      // rethrows) when it rejects, on the one connection it reserved.
      return (await sql.begin((tx) => fn(fromPostgresJs(tx, options)))) as T;
    },
    listen: (channel, onMessage, onBroken) => listenOnSql(sql, channel, onMessage, onBroken),
  });
}

/**
 * LISTEN through postgres.js's own listener connection (one per `Sql`, shared
 * by every channel). postgres.js reconnects that connection and LISTENs again
 * by itself when it dies; notifications sent meanwhile are lost, and after
 * such a reconnect the handle `listen()` returned no longer unlistens (it
 * forgets the listener it re-made). So the first re-LISTEN is reported as a
 * break: this subscription goes quiet for good and `onBroken` is called once,
 * and the queue subscribes afresh and claims at once, to catch up on what was
 * missed. postgres.js keeps the quiet listener until `sql.end()`.
 */
async function listenOnSql(
  sql: PostgresJsSql,
  channel: string,
  onMessage: (payload: string) => void,
  onBroken?: (error: unknown) => void,
): Promise<() => Promise<void>> {
  const name = assertIdentifier("listen channel", channel);
  let live = true;
  let listens = 0;
  const onListen = () => {
    listens += 1;
    if (listens === 1 || !live) return;
    live = false;
    onBroken?.(
      new Error(
        `postgres.js lost its LISTEN connection and listened on "${name}" again; notifications sent meanwhile were missed`,
      ),
    );
  };
  let handle: { unlisten(): Promise<void> };
  try {
    handle = await sql.listen(name, (payload) => live && onMessage(payload), onListen);
  } catch (error) {
    live = false; // postgres.js may LISTEN again for it later: keep it quiet
    throw error;
  }
  return async () => {
    if (!live) return;
    live = false;
    await handle.unlisten();
  };
}
