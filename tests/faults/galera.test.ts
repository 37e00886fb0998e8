/**
 * Fault: the queue on a 3-node MariaDB Galera cluster (multi-primary), workers
 * on every node, and one node SIGKILLed mid-run, then rejoined by incremental
 * state transfer. Nothing is restarted by hand: the queue whose pool points at
 * the dead node keeps running, its claims failing until the node is back, and
 * the jobs it held are taken over by the others once their (short) leases end.
 *
 * Galera's row locks are per node: SKIP LOCKED on two nodes can pick the same
 * row, and the loser's UPDATE or COMMIT fails with 1213 (deadlock) at
 * certification. The engine must take that as a failure, never as a claim
 * or a completion; the test counts the 1213s the queues report.
 *
 * A second test measures draining no-op jobs with all consumers on one node
 * against one consumer per node (figures in docs/scaling.md; no timing
 * assertion, correctness only).
 */
import { type DB, PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { createDatabase, type GaleraCluster, startGaleraCluster } from "@persistent-queue/testkit";
import mysql, { type RowDataPacket } from "mysql2/promise";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { allFinal } from "./harness.js";

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeEach(() => void process.on("unhandledRejection", onUnhandled));
afterEach(() => void process.off("unhandledRejection", onUnhandled));

/**
 * The whole file runs in `npm run faults` (PQ_CLUSTER_FAULTS=1), not in `npm test`. The crash
 * and globalConcurrency tests were in `npm test` for two CI runs: they passed on a quiet
 * machine, but in CI, beside the rest of the suite on two cores, Galera's own timeouts (a node
 * rejoining, group membership) went first: one run timed the crash test out after 300 s and
 * could not connect to the rejoined node in the next test (docs/scaling.md). Testkit's starter
 * for the cluster, with a kill and a rejoin, stays in CI (packages/testkit/src/clusters/).
 */
const CLUSTER_FAULTS = process.env.PQ_CLUSTER_FAULTS === "1";

let cluster: GaleraCluster;
const pools: mysql.Pool[] = [];
beforeAll(async () => {
  if (CLUSTER_FAULTS) cluster = await startGaleraCluster();
}, 180_000);
afterAll(async () => {
  for (const p of pools) await p.end().catch(() => undefined);
  await cluster?.stop();
});

/** A URL of node `i` with `database` as its path. */
function nodeUrl(i: number, database: string): string {
  const url = new URL(cluster.urls[i]!);
  url.pathname = `/${database}`;
  return url.toString();
}

function openNode(i: number, database: string): DB {
  const pool = mysql.createPool({ uri: nodeUrl(i, database), connectionLimit: 10 });
  pools.push(pool);
  return fromMysql2(pool);
}

/** 1213 (ER_LOCK_DEADLOCK: what a Galera certification conflict looks like to a client), on the error or its causes. */
function isDeadlock(error: unknown): boolean {
  for (let e = error as { errno?: unknown; cause?: unknown } | undefined; e; ) {
    if (e.errno === 1213) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * Every handler run of every job, from all queues of the test (one process):
 * a run that starts while another run of the same job has not ended is an
 * overlap (two runs at once: must never happen).
 */
class RunLog {
  readonly running = new Map<number, number>();
  readonly runs = new Map<number, number>();
  readonly completions = new Map<number, number>();
  /** The queues (by service name) that ran each job. */
  readonly ranOn = new Map<number, Set<string>>();
  /** Completions per queue (by service name). */
  readonly byQueue = new Map<string, number>();
  overlaps = 0;
  /** Handler runs in progress now, over all queues, and the most ever at once. */
  inFlight = 0;
  maxInFlight = 0;
  /** Date.now() when the `total`-th distinct job completed. */
  allDoneAt: number | undefined;
  constructor(private readonly total = Number.POSITIVE_INFINITY) {}
  start(id: number, queue: string): void {
    const on = this.ranOn.get(id) ?? new Set<string>();
    this.ranOn.set(id, on.add(queue));
    const now = this.running.get(id) ?? 0;
    if (now > 0) this.overlaps++;
    this.running.set(id, now + 1);
    this.runs.set(id, (this.runs.get(id) ?? 0) + 1);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
  }
  end(id: number): void {
    this.running.set(id, (this.running.get(id) ?? 1) - 1);
    this.inFlight--;
  }
  completed(id: number, queue: string): void {
    this.completions.set(id, (this.completions.get(id) ?? 0) + 1);
    this.byQueue.set(queue, (this.byQueue.get(queue) ?? 0) + 1);
    if (this.completions.size === this.total) this.allDoneAt ??= Date.now();
  }
  get rerun(): number {
    return [...this.runs.values()].filter((n) => n > 1).length;
  }
  get doubleCompleted(): number {
    return [...this.completions.values()].filter((n) => n > 1).length;
  }
}

/** Errors the queues reported, by where (`during`) and whether they were 1213s. */
class ErrorTally {
  readonly deadlocks = new Map<string, number>();
  readonly other = new Map<string, number>();
  add(error: unknown, during: string): void {
    const m = isDeadlock(error) ? this.deadlocks : this.other;
    m.set(during, (m.get(during) ?? 0) + 1);
  }
  get deadlockTotal(): number {
    return [...this.deadlocks.values()].reduce((a, b) => a + b, 0);
  }
  toString(): string {
    const f = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}:${v}`).join(",") || "none";
    return `1213s={${f(this.deadlocks)}} other-errors={${f(this.other)}}`;
  }
}

function queueOn(
  db: DB,
  name: string,
  log: RunLog,
  errors: ErrorTally,
  handlerMs: number,
  leaseTime: string,
  globalConcurrency?: number,
) {
  const queue = new PersistentQueue({
    db,
    serviceName: name,
    pollInterval: 50,
    // The engine logs what it retries; the 1213s are counted from the "error" events.
    jobs: [
      {
        jobType: 1,
        workerPoolCapacity: 8,
        leaseTime,
        ...(globalConcurrency === undefined ? {} : { globalConcurrency }),
        handleJob: async (job) => {
          log.start(job.id, name);
          try {
            if (handlerMs > 0) await new Promise((r) => setTimeout(r, handlerMs));
          } finally {
            log.end(job.id);
          }
        },
      },
    ],
  });
  queue.on("completed", ({ job }) => log.completed(job.id, name));
  queue.on("error", ({ error, during }) => errors.add(error, during));
  return queue;
}

async function enqueue(queue: ReturnType<typeof queueOn>, total: number): Promise<void> {
  for (let i = 0; i < total; i += 500) {
    const n = Math.min(500, total - i);
    await queue.addMany(
      Array.from({ length: n }, (_, k) => ({ jobType: 1, params: { n: i + k } })),
    );
  }
}

/** Sum over the live nodes of a numeric wsrep status counter. */
async function wsrepCounter(name: string, nodes: readonly number[]): Promise<number> {
  let sum = 0;
  for (const i of nodes) {
    const conn = await mysql.createConnection({ uri: cluster.urls[i]! });
    try {
      const [rows] = await conn.query<RowDataPacket[]>("SHOW STATUS LIKE ?", [name]);
      sum += Number(rows[0]?.Value ?? 0);
    } finally {
      await conn.end();
    }
  }
  return sum;
}

async function tablesOn(i: number, database: string): Promise<string[]> {
  const conn = await mysql.createConnection({ uri: cluster.urls[i]! });
  try {
    await conn.query("SET SESSION wsrep_sync_wait = 1"); // causal: see what node 1 committed
    const [rows] = await conn.query<RowDataPacket[]>(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1",
      [database],
    );
    return rows.map((r) => String(r.t));
  } finally {
    await conn.end();
  }
}

/**
 * migrate() through node 1, then a causal read on every node: Galera applies
 * replicated writes asynchronously, and a queue started on node 2 right after
 * migrate() returned on node 1 was seen to fail its schema check ("at schema
 * version 6; this build needs 7": the last migration's row not applied there yet).
 */
async function migrateEverywhere(queue: ReturnType<typeof queueOn>, database: string) {
  await queue.migrate();
  for (const i of [0, 1, 2]) await tablesOn(i, database);
}

describe.runIf(CLUSTER_FAULTS)("MariaDB Galera, 3 nodes", () => {
  it("node 2 SIGKILLed mid-run and rejoined: no job lost, none run twice at once, nothing restarted by hand", {
    // About 35 s here; the waits inside are bounded (rejoin 90 s, drains 90 s and 60 s). On a
    // machine at load 20 the rejoin alone once took over 100 s, past the old 150 s limit.
    timeout: 300_000,
  }, async () => {
    const JOBS = 2000;
    const EXTRA = 200;
    const { name } = await createDatabase({ kind: "mariadb", url: cluster.urls[0]! });
    const log = new RunLog(JOBS);
    const errors = [0, 1, 2].map(() => new ErrorTally());
    // Short leases: the jobs the killed node's worker held come back after ~2 s,
    // not the default 30 s (heartbeats every third of it, rescue every half).
    const queues = [0, 1, 2].map((i) =>
      queueOn(openNode(i, name), `galera-node${i + 1}`, log, errors[i]!, 5, "2s"),
    );
    try {
      // DDL through node 1: replicated by TOI, so the tables exist on every node.
      await queues[0]!.migrate();
      const onNode1 = await tablesOn(0, name);
      expect(onNode1).toContain("async_job_tab");
      expect(await tablesOn(1, name)).toEqual(onNode1);
      expect(await tablesOn(2, name)).toEqual(onNode1);

      await enqueue(queues[0]!, JOBS);
      const certBefore = await wsrepCounter("wsrep_local_cert_failures", [0, 1, 2]);
      await Promise.all(queues.map((q) => q.start()));
      while (log.completions.size < JOBS / 4) await new Promise((r) => setTimeout(r, 10));
      const t0 = Date.now();
      await cluster.kill(1);
      const doneAtKill = log.completions.size;
      await new Promise((r) => setTimeout(r, 2000)); // down while the others go on
      await cluster.rejoin(1);
      const rejoinMs = Date.now() - t0;
      const success = await allFinal(openNode(0, name), JOBS, 90_000);
      const certAfter = await wsrepCounter("wsrep_local_cert_failures", [0, 1, 2]);

      expect(success).toBe(JOBS); // 0 lost: every job ended Success
      expect(log.overlaps).toBe(0); // 0 run twice at once
      expect(log.doubleCompleted).toBe(0);
      // Every job is reported completed, except one whose completion the kill cut off after it
      // committed: it is Success (asserted above), but its queue never saw the reply, retried
      // against the dead node until the lease ran out and reported an error instead. Only
      // jobs run on the killed node alone can be such (seen once at load ~20: 8 jobs, one batch).
      const unreported = [...log.ranOn.keys()].filter((id) => !log.completions.has(id));
      for (const id of unreported) expect(log.ranOn.get(id)).toEqual(new Set(["galera-node2"]));
      if (unreported.length > 0)
        expect(
          (errors[1]!.other.get("complete") ?? 0) + (errors[1]!.deadlocks.get("complete") ?? 0),
        ).toBeGreaterThan(0);
      expect(log.completions.size + unreported.length).toBe(JOBS);
      // The queue on the killed node saw its node die (its statements failed) …
      expect(errors[1]!.other.size + errors[1]!.deadlocks.size).toBeGreaterThan(0);
      // … and works again by itself, same process, same pool: the others stop, and it
      // alone enqueues and runs EXTRA more jobs through the rejoined node.
      const node2Before = log.byQueue.get("galera-node2") ?? 0;
      await queues[0]!.stop({ timeoutMs: 2000 });
      await queues[2]!.stop({ timeoutMs: 2000 });
      for (let i = 0; i < EXTRA; i++) await queues[1]!.add(1, { extra: i });
      expect(await allFinal(openNode(1, name), JOBS + EXTRA, 60_000)).toBe(JOBS + EXTRA);
      expect((log.byQueue.get("galera-node2") ?? 0) - node2Before).toBe(EXTRA);
      expect(log.overlaps).toBe(0);
      expect(log.doubleCompleted).toBe(0);
      expect(unhandled).toEqual([]);
      const tally = errors.map((e, i) => `node${i + 1}: ${e}`).join("; ");
      console.info(
        `[fault galera] jobs=${JOBS}+${EXTRA} completed-before-kill=${doneAtKill} killed-to-synced=${rejoinMs}ms killed-to-all-done=${(log.allDoneAt ?? Number.NaN) - t0}ms unreported=${unreported.length} lost=0 overlaps=${log.overlaps} re-run=${log.rerun} completions-by-queue=${JSON.stringify(Object.fromEntries(log.byQueue))} cert-failures(live nodes' counters)=${certAfter - certBefore}\n  ${tally}`,
      );
    } finally {
      await Promise.all(queues.map((q) => q.stop({ timeoutMs: 2000 })));
    }
  });

  it("globalConcurrency across nodes: the limited claim's transaction under certification conflicts", {
    timeout: 90_000,
  }, async () => {
    const JOBS = 300;
    const LIMIT = 4;
    const { name, drop } = await createDatabase({ kind: "mariadb", url: cluster.urls[0]! });
    const log = new RunLog(JOBS);
    const errors = new ErrorTally();
    const queues = [0, 1, 2].map((i) =>
      queueOn(openNode(i, name), `limited-node${i + 1}`, log, errors, 20, "30s", LIMIT),
    );
    try {
      await migrateEverywhere(queues[0]!, name);
      await enqueue(queues[0]!, JOBS);
      await Promise.all(queues.map((q) => q.start()));
      expect(await allFinal(openNode(0, name), JOBS, 60_000)).toBe(JOBS);
      console.info(
        `[fault galera limited] jobs=${JOBS} globalConcurrency=${LIMIT} max-running-at-once=${log.maxInFlight} overlaps=${log.overlaps} re-run=${log.rerun} ${errors}`,
      );
      expect(log.overlaps).toBe(0);
      expect(log.doubleCompleted).toBe(0);
      expect(log.maxInFlight).toBeLessThanOrEqual(LIMIT);
    } finally {
      await Promise.all(queues.map((q) => q.stop({ timeoutMs: 2000 })));
      await drop().catch(() => undefined);
    }
  });

  it("drains no-op jobs with 3 consumers on one node and on three nodes (measured, correctness asserted; npm run faults)", {
    timeout: 600_000,
  }, async () => {
    const JOBS = 2000;
    // More rounds for the figures in docs/scaling.md (PQ_GALERA_ROUNDS=3); one by default.
    const rounds = Math.max(1, Number(process.env.PQ_GALERA_ROUNDS ?? 1));
    const figures: string[] = [];
    const layouts = Array.from(
      { length: rounds },
      () => ["one node", "three nodes"] as const,
    ).flat();
    for (const layout of layouts) {
      const { name, drop } = await createDatabase({ kind: "mariadb", url: cluster.urls[0]! });
      const log = new RunLog(JOBS);
      const errors = new ErrorTally();
      const node = (k: number) => (layout === "one node" ? 0 : k);
      const queues = [0, 1, 2].map((k) =>
        queueOn(openNode(node(k), name), `drain-${k}`, log, errors, 0, "30s"),
      );
      try {
        await migrateEverywhere(queues[0]!, name);
        await enqueue(queues[0]!, JOBS);
        // wsrep status counters are per node and cumulative: read them around the run.
        const before = await wsrepCounter("wsrep_local_cert_failures", [0, 1, 2]);
        const bfBefore = await wsrepCounter("wsrep_local_bf_aborts", [0, 1, 2]);
        const t0 = performance.now();
        await Promise.all(queues.map((q) => q.start()));
        while (log.completions.size < JOBS) {
          if (performance.now() - t0 > 90_000) throw new Error(`${layout}: not drained in 90 s`);
          await new Promise((r) => setTimeout(r, 5));
        }
        const ms = performance.now() - t0;
        const cert = (await wsrepCounter("wsrep_local_cert_failures", [0, 1, 2])) - before;
        const bf = (await wsrepCounter("wsrep_local_bf_aborts", [0, 1, 2])) - bfBefore;
        expect(await allFinal(openNode(0, name), JOBS, 30_000)).toBe(JOBS);
        expect(log.overlaps).toBe(0);
        expect(log.doubleCompleted).toBe(0);
        figures.push(
          `${layout}: ${Math.round((JOBS / ms) * 1000)} jobs/s (${Math.round(ms)} ms) claim-1213s=${errors.deadlocks.get("claim") ?? 0} ${errors} cert-failures=${cert} bf-aborts=${bf} re-run=${log.rerun}`,
        );
      } finally {
        await Promise.all(queues.map((q) => q.stop({ timeoutMs: 2000 })));
        await drop().catch(() => undefined);
      }
    }
    console.info(
      `[measure galera] ${JOBS} no-op jobs, 3 queues x capacity 8\n  ${figures.join("\n  ")}`,
    );
  });
});
