/**
 * The servers of one bench run (throwaway MariaDB and PostgreSQL from testkit,
 * a Redis from Debian's redis-server) and a fresh database on one of them for
 * every system and scenario, so no run sees another's rows.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createDatabase,
  type DatabaseServer,
  ensureDebianBinary,
  mariadbFromEnvOrStart,
  postgresFromEnvOrStart,
} from "@persistent-queue/testkit";
import { Redis } from "ioredis";
import { sleep } from "./env.js";

/** Where a system under test keeps its jobs; plain data, so a child process can reopen it. */
export type TargetSpec =
  | { kind: "sqlite"; file: string }
  | { kind: "mariadb"; url: string }
  | { kind: "postgres"; url: string }
  | { kind: "redis"; url: string; prefix: string };
export type TargetKind = TargetSpec["kind"];

export interface Fresh {
  spec: TargetSpec;
  drop(): Promise<void>;
}

/** Redis persistence for the comparison: AOF fsynced every second, Redis's durable-ish default. */
export const REDIS_ARGS = ["--save", "", "--appendonly", "yes", "--appendfsync", "everysec"];

export interface Servers {
  versions: Record<TargetKind, string>;
  fresh(kind: TargetKind): Promise<Fresh>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ url: string; version: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "pq-bench-redis-"));
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, ...REDIS_ARGS];
  const binary = await ensureDebianBinary("/usr/bin/redis-server", "redis-server");
  const proc: ChildProcess = spawn(binary, args, { stdio: "ignore" });
  let spawnError: Error | undefined;
  proc.once("error", (error) => {
    spawnError = error;
  });
  const url = `redis://127.0.0.1:${port}`;
  let version = "";
  for (let i = 0; ; i++) {
    const r = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    r.on("error", () => undefined); // refused while the server starts: retried below
    try {
      await r.connect();
      version = /redis_version:(\S+)/.exec(await r.info("server"))?.[1] ?? "?";
      r.disconnect();
      break;
    } catch (error) {
      r.disconnect();
      if (i > 100 || proc.exitCode !== null || spawnError)
        throw new Error(`redis-server did not start: ${spawnError ?? error}`);
      await sleep(50);
    }
  }
  return {
    url,
    version,
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await Promise.race([exited, sleep(5000)]);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startServers(): Promise<Servers> {
  const started: { stop(): Promise<void> }[] = [];
  try {
    const maria: DatabaseServer = await mariadbFromEnvOrStart();
    started.push(maria);
    const postgres: DatabaseServer = await postgresFromEnvOrStart();
    started.push(postgres);
    const redis = await startRedis();
    started.push(redis);
    const sqliteDir = mkdtempSync(join(tmpdir(), "pq-bench-sqlite-"));
    started.push({ stop: async () => rmSync(sqliteDir, { recursive: true, force: true }) });
    let seq = 0;
    return {
      versions: {
        sqlite: "",
        mariadb: maria.version.split("-")[0] ?? maria.version,
        postgres: /PostgreSQL (\S+)/.exec(postgres.version)?.[1] ?? postgres.version,
        redis: redis.version,
      },
      async fresh(kind) {
        const n = ++seq;
        if (kind === "sqlite") {
          const file = join(sqliteDir, `bench-${n}.sqlite`);
          const drop = async () => {
            for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
          };
          return { spec: { kind, file }, drop };
        }
        if (kind === "redis") {
          const prefix = `b${n}`;
          const drop = async () => {
            const r = new Redis(redis.url);
            await r.flushall(); // one system at a time uses Redis: drop everything it wrote
            r.disconnect();
          };
          return { spec: { kind, url: redis.url, prefix }, drop };
        }
        const server = kind === "mariadb" ? maria : postgres;
        const db = await createDatabase({ kind, url: server.url });
        return { spec: { kind, url: db.url }, drop: () => db.drop() };
      },
      async stop() {
        for (const s of started.reverse()) await s.stop().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
    throw error;
  }
}
