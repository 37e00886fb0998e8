import type { DB } from "../db.js";
import type { Dialect } from "../dialects/dialect.js";
import { execSql } from "../dialects/sql.js";
import type { Logger } from "../logger.js";
import { dbErrorMessage } from "./redact.js";

/** Longest payload sent; a longer list becomes "*". */
const MAX_PAYLOAD = 7900;

/**
 * Wakes other processes after an add() outside a transaction, coalesced: at
 * most one NOTIFY in flight, and one more after it for whatever was added
 * meanwhile. A NOTIFY per job would serialise commits and halve enqueue speed.
 * With `gapMs`, NOTIFYs after the first are also at least that far apart.
 */
export class NotifyCoalescer {
  readonly #db: DB;
  readonly #channel: string;
  readonly #logger: Logger;
  readonly #gapMs: number;
  #busy = false;
  #again = false;
  readonly #types = new Set<number>();

  /** `db` is the queue's guarded DB: no NOTIFY reaches the user's pool after stop(). */
  constructor(db: DB, channel: string, logger: Logger, gapMs = 0) {
    this.#db = db;
    this.#channel = channel;
    this.#logger = logger;
    this.#gapMs = gapMs;
  }

  /**
   * Notifies `types` (job types added; on the completion channel, ids of jobs
   * that ended), now or right after the NOTIFY in flight.
   */
  notify(dialect: Dialect, types: Iterable<number>): void {
    const notify = dialect.statements.notify;
    if (!notify) return;
    for (const t of types) this.#types.add(t);
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    const send = async (): Promise<void> => {
      do {
        this.#again = false;
        let payload = [...this.#types].join(",");
        // PostgreSQL refuses a payload of 8000 bytes or more: "*" stands for "anything".
        if (payload.length >= MAX_PAYLOAD) payload = "*";
        this.#types.clear();
        await execSql(this.#db, dialect, notify(this.#channel, payload)).catch((error) => {
          this.#logger.debug?.(
            { err: dbErrorMessage(error) },
            "NOTIFY failed; other workers will poll",
          );
        });
        if (this.#gapMs > 0) await new Promise((r) => setTimeout(r, this.#gapMs).unref?.()); // gather more meanwhile
      } while (this.#again);
      this.#busy = false;
    };
    void send();
  }
}
