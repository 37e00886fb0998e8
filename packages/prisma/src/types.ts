// The Prisma objects fromPrisma takes, typed structurally (type declarations only:
// this file compiles to nothing), and its options.
import type { DB, DialectFamily } from "@persistent-queue/core";

/**
 * The part of a Prisma 7 interactive-transaction client (`tx` in
 * `prisma.$transaction(async (tx) => …)`) this adapter uses. Typed
 * structurally, so this package never imports `@prisma/client` at run time
 * and any generated client fits, whatever its models.
 */
export interface PrismaTransactionClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}

/** Options of Prisma's interactive `$transaction(fn, options)`. */
export interface PrismaTransactionOptions {
  /** Longest wait for a connection to start the transaction, in ms (Prisma's default: 2000). */
  readonly maxWait?: number;
  /** Longest the transaction may stay open, in ms (Prisma's default: 5000). */
  readonly timeout?: number;
  /** Isolation level name, e.g. "ReadCommitted" (Prisma's `TransactionIsolationLevel`). */
  readonly isolationLevel?: string;
}

/** The part of a Prisma 7 `PrismaClient` (or an `$extends` result) this adapter uses. */
export interface PrismaRootClient extends PrismaTransactionClient {
  $transaction<R>(
    fn: (tx: PrismaTransactionClient) => Promise<R>,
    options?: PrismaTransactionOptions,
  ): PromiseLike<R>;
  $disconnect(): Promise<void>;
}

/** Options of `fromPrisma`. */
export interface FromPrismaOptions {
  /**
   * The SQL family, when it cannot be read from the client (see
   * `fromPrisma`). Normally left out.
   */
  readonly dialect?: DialectFamily;
  /** Passed to every `$transaction` this adapter opens (`transaction()`, INSERTs that report an id). */
  readonly transactionOptions?: PrismaTransactionOptions;
  /**
   * PostgreSQL notifications, which Prisma cannot receive: pass
   * `fromPg(pool).listen` (from `@persistent-queue/pg`) with the pg `Pool` you
   * gave `PrismaPg`, and workers in other processes wake at once on enqueue.
   * Left out, the DB has no `listen` and the engine polls.
   */
  readonly listen?: DB["listen"];
  /**
   * SQLite: switch the file to WAL on first use, so other processes' readers
   * and writer are not blocked by a reader here. Default true.
   */
  readonly wal?: boolean;
}
