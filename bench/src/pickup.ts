/**
 * Scenario C: pickup latency, enqueue to handler start, over 200 spaced
 * enqueues, on SQLite, MariaDB and PostgreSQL; for a producer in the same
 * queue (in-process wake-up) and for a producer on another connection and
 * queue instance, as another process would be (NOTIFY on PostgreSQL, polling
 * elsewhere). Durable settings (fsync on). Prints a table; writes nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fromBetterSqlite3 } from "@persistent-queue/better-sqlite3";
import { type DB, PersistentQueue } from "@persistent-queue/core";
import { fromMysql2 } from "@persistent-queue/mysql2";
import { fromPg } from "@persistent-queue/pg";
import {
  createDatabase,
  mariadbFromEnvOrStart,
  postgresFromEnvOrStart,
} from "@persistent-queue/testkit";
import Database from "better-sqlite3";
import mysql from "mysql2/promise";
import pg from "pg";

const SAMPLES = Number(process.env.PQ_BENCH_SAMPLES ?? 200);
const SPACING_MS = 15;

async function measure(target: Target, mode: "in-process" | "other process") {
  const consumerConn = await target.open();
  const producerConn = mode === "in-process" ? consumerConn : await target.open();
  const latencies: number[] = [];
  const sentAt = new Map<number, number>();
  let seq = 0;
  const consumer = new PersistentQueue({
    db: consumerConn.db,
    serviceName: "bench",
    jobs: [
      {
        jobType: 1,
        handleJob: async (job) => {
          const t = sentAt.get((job.params as { n: number }).n);
          if (t !== undefined) latencies.push(performance.now() - t);
        },
      },
    ],
  });
  await consumer.migrate();
  await consumer.start();
  const producer =
    mode === "in-process"
      ? consumer
      : new PersistentQueue({ db: producerConn.db, serviceName: "bench-producer", jobs: [] });
  await new Promise((r) => setTimeout(r, 1500)); // let the consumer settle into idle polling
  for (let i = 0; i < SAMPLES; i++) {
    const n = seq++;
    sentAt.set(n, performance.now());
    await producer.add(1, { n });
    await new Promise((r) => setTimeout(r, SPACING_MS));
  }
  const deadline = Date.now() + 10_000;
  while (latencies.length < SAMPLES && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  await consumer.stop();
  if (producerConn !== consumerConn) await producerConn.close();
  await consumerConn.close();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
  };
}

const rows: Record<string, string | number>[] = [];
for (const target of await targets()) {
  for (const mode of ["in-process", "other process"] as const) {
    const r = await measure(target, mode);
    rows.push({
      database: target.name,
      producer: mode,
      samples: r.n,
      "p50 ms": r.p50.toFixed(2),
      "p95 ms": r.p95.toFixed(2),
      "p99 ms": r.p99.toFixed(2),
    });
    console.error(`done: ${target.name} ${mode}`);
  }
  await target.done();
}
console.table(rows);
