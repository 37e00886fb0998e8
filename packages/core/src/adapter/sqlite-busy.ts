/** The error's own `code` (sqlite3, better-sqlite3). */
const ownCode = (err: unknown): unknown => (err as { code?: unknown } | null)?.code;

/**
 * Retries `fn` while SQLite answers SQLITE_BUSY (the statement did not run),
 * until `deadlineMs` have passed. It waits asynchronously between tries, so a
 * lock holder in this same process can commit meanwhile (a driver's own busy
 * timeout waits synchronously, or not at all, as when switching a file to
 * WAL): 1 ms doubling to 50, with jitter, so processes that start together do
 * not retry in step. `codeOf` finds the SQLite code in the driver's error.
 */
export async function retryWhileBusy<T>(
  fn: () => Promise<T>,
  deadlineMs: number,
  codeOf: (err: unknown) => unknown = ownCode,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
    try {
      return await fn();
    } catch (err) {
      if (!String(codeOf(err)).startsWith("SQLITE_BUSY") || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random())));
    }
  }
}
