/** The one shape every queue under test is driven through, so every scenario runs the same code for every system. */
import type { TargetKind, TargetSpec } from "../servers.js";

/** Payloads carry only a sequence number: timestamps stay in the measuring process, off the wire. */
export interface Payload {
  n: number;
}
export type Handler = (payload: Payload) => void;

export interface SystemUnderTest {
  /** Creates tables/schema/queues and opens connections; enqueue works afterwards. */
  setup(): Promise<void>;
  enqueue(payload: Payload, delayMs?: number): Promise<void>;
  enqueueBatch(payloads: readonly Payload[]): Promise<void>;
  /** Starts workers running at most `concurrency` handlers at once in this process. */
  start(concurrency: number, handler: Handler): Promise<void>;
  /** Stops the workers (if started) and closes every connection. */
  teardown(): Promise<void>;
}

export interface SystemInfo {
  id: string;
  label: string;
  target: TargetKind;
  version: string;
  /** The settings used, as written into docs/benchmarks.md. */
  settings: string;
  make(spec: TargetSpec): SystemUnderTest;
  /** The scenarios this system runs in (default: all). */
  scenarios?: readonly string[];
}
