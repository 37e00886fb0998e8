import type { DB } from "./db.js";
import type { Dialect } from "./dialects/dialect.js";
import type { NewJobRow } from "./statements/jobs.js";

/** Most rows one combined INSERT carries. */
const MAX_ROWS = 500;
/**
 * Most characters of params one combined INSERT carries (a single larger job
 * goes alone): MySQL refuses a statement over its max_allowed_packet (16 MiB on
 * MariaDB 10.11 by default).
 */
const MAX_CHARS = 1 << 20;

interface Pending {
  readonly row: NewJobRow;
  readonly resolve: (id: number) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Write-combining for `add()`: the plain inserts (no transaction of the caller,
 * no unique key) that are called in the same turn of the event loop go to the
 * database as one multi-row INSERT, each call resolving its own id (a multi-row
 * INSERT's ids come back in row order, as `addMany()` relies on). Many callers
 * adding one job each — the requests of a busy server — then cost one round
 * trip and one commit per turn instead of one per job: on PostgreSQL 16 calls in
 * flight went from about 3,500 adds/s to 0.9 of the server's commit limit of
 * one-row INSERTs (each statement's own socket write and commit were the cost). A lone
 * `add()` waits for the end of the current turn only. A statement that fails
 * rejects every call in it with its error (nothing of it is known inserted, as
 * for one call alone).
 */
export class InsertBatcher {
  readonly #db: DB;
  readonly #dialect: Dialect;
  readonly #table: string;
  #pending: Pending[] = [];
  #chars = 0;
  #scheduled = false;

  constructor(db: DB, dialect: Dialect, table: string) {
    this.#db = db;
    this.#dialect = dialect;
    this.#table = table;
  }

  /** Inserts `row` with the other rows of this turn; resolves its id. */
  insert(row: NewJobRow): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.#chars + row.params.length > MAX_CHARS && this.#pending.length > 0) this.#flush();
      this.#pending.push({ row, resolve, reject });
      this.#chars += row.params.length;
      if (this.#pending.length >= MAX_ROWS || this.#chars >= MAX_CHARS) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => {
          this.#scheduled = false;
          this.#flush();
        });
      }
    });
  }

  #flush(): void {
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    this.#chars = 0;
    this.#dialect.statements
      .insertJobs(
        this.#db,
        this.#table,
        batch.map((p) => p.row),
      )
      .then(
        (ids) => {
          batch.forEach((p, i) => {
            const id = ids[i];
            if (id === undefined)
              p.reject(new Error(`the insert returned ${ids.length} ids for ${batch.length} rows`));
            else p.resolve(id);
          });
        },
        (error: unknown) => {
          for (const p of batch) p.reject(error);
        },
      );
  }
}
