/**
 * Runs `fn` on a connection taken by `acquire` (from an ORM's pool) and hands
 * it back with `release` whatever happens, after `fn` has settled.
 */
export async function withConnection<C, T>(
  acquire: () => C | Promise<C>,
  release: (connection: C) => unknown,
  fn: (connection: C) => Promise<T>,
): Promise<T> {
  const connection = await acquire();
  try {
    return await fn(connection);
  } finally {
    await release(connection);
  }
}
