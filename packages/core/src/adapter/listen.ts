import type { Unlisten } from "../db.js";
import { assertIdentifier } from "../identifier.js";

/**
 * A node-postgres connection (`Client` / `PoolClient`) as LISTEN needs it,
 * typed structurally: core never imports the driver.
 */
export interface NotifyingConnection {
  on(
    event: "notification",
    listener: (msg: { channel: string; payload?: string }) => void,
  ): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  /** node-postgres's own; used when `run` is left out. */
  query?(sql: string): Promise<unknown>;
}

/** Inputs of {@link listenOnConnection}. */
export interface ListenOnConnection {
  /** The connection to hold for the subscription. */
  readonly connection: NotifyingConnection;
  /** The channel, a plain identifier. */
  readonly channel: string;
  readonly onMessage: (payload: string) => void;
  /** Called once if the connection dies while subscribed. */
  readonly onBroken?: ((error: unknown) => void) | undefined;
  /** Sends a statement on this same connection; left out, the connection's own `query`. */
  readonly run?: ((sql: string) => Promise<unknown>) | undefined;
  /** Hands the connection back; `broken` = it died and must be destroyed, not pooled. Called once. */
  readonly release: (broken: boolean) => unknown;
}

/**
 * LISTEN on one connection held until unlistened — shared by every adapter
 * that reaches a node-postgres connection (pg, and the ORMs on it). If the
 * connection dies (server restart, pg_terminate_backend), it is released as
 * broken and `onBroken` is told once; the queue then subscribes again.
 */
export async function listenOnConnection(o: ListenOnConnection): Promise<Unlisten> {
  const name = assertIdentifier("listen channel", o.channel);
  const conn = o.connection;
  const run = o.run ?? ((sql: string) => conn.query!(sql));
  const onNotification = (msg: { channel: string; payload?: string }) => {
    if (msg.channel === name) o.onMessage(msg.payload ?? "");
  };
  let broken = false;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    conn.removeListener("notification", onNotification as (...args: unknown[]) => void);
    conn.removeListener("error", onError as (...args: unknown[]) => void);
    o.release(broken);
  };
  const onError = (error: Error) => {
    if (broken) return;
    broken = true;
    release();
    o.onBroken?.(error);
  };
  conn.on("notification", onNotification);
  conn.on("error", onError);
  try {
    await run(`LISTEN "${name}"`);
  } catch (error) {
    broken = true;
    release();
    throw error;
  }
  return async () => {
    if (!broken) await run(`UNLISTEN "${name}"`).catch(() => undefined);
    release();
  };
}
