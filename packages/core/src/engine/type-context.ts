import type { ResolvedJobConfig } from "../config.js";
import type { DB } from "../db.js";
import type { Dialect, FlowTables } from "../dialects/dialect.js";
import type { Logger } from "../logger.js";

/** What every part of a job type's worker (claimer, slots, completer) shares. */
export interface TypeContext {
  /** The queue's guarded view of the user's DB (see StatementGuard): refuses statements once the queue stopped. */
  readonly db: DB;
  readonly dialect: Dialect;
  readonly table: string;
  /** The job-types table and this queue's scope in it (paused types, limited claims). */
  readonly flow: FlowTables;
  readonly workerId: string;
  readonly config: ResolvedJobConfig;
  readonly logger: Logger;
}
