// A throwaway PostgreSQL primary and one streaming standby on loopback, for
// failover tests: crash the primary, promote the standby, and see what a
// client that follows the primary (a multi-host URL) makes of it. Built the
// way servers.ts starts one server: the system's binaries (Debian's 15),
// run as the `postgres` OS user when we are root, data in a fresh temp dir.
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  ensurePostgres,
  isRoot,
  type PostgresBinaries,
  postgresUser,
} from "../internal/binaries.js";
import { pgVersion, withPg } from "../internal/probes.js";
import {
  freePort,
  ManagedProcess,
  runTool,
  trackTempDir,
  untrackTempDir,
} from "../internal/process.js";

/** Options of {@link startPostgresCluster}. */
export interface PostgresClusterOptions {
  /**
   * Synchronous replication: the primary's `synchronous_standby_names = '*'`,
   * so a COMMIT returns only once the standby has flushed it (no acknowledged
   * write is lost when the primary dies). Default false (asynchronous: a
   * COMMIT returns when the primary alone has flushed it).
   */
  readonly synchronous?: boolean;
}

/** One server of the cluster. */
export interface PostgresNode {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (admin, trust auth). */
  readonly url: string;
  /** Its data directory (inside the cluster's temp dir). */
  readonly dataDir: string;
}

/** A primary and a streaming standby; see {@link startPostgresCluster}. */
export interface PostgresCluster {
  /** The server started as primary (after promoteStandby(), the crashed one). */
  readonly primary: PostgresNode;
  /** The server started as standby (after promoteStandby(), the primary). */
  readonly standby: PostgresNode;
  /** Whether the primary waits for the standby on COMMIT. */
  readonly synchronous: boolean;
  /** The temp dir holding both data dirs, sockets and logs (removed by stop()). */
  readonly dir: string;
  /**
   * Both servers in one URL, primary first, as postgres.js and libpq take it:
   * `postgres://postgres@127.0.0.1:P1,127.0.0.1:P2/postgres?target_session_attrs=read-write`.
   */
  readonly url: string;
  /** {@link url} for another database on the cluster (e.g. one createDatabase made on the primary). */
  urlFor(database: string): string;
  /**
   * Kills the primary as a power cut would (`pg_ctl -m immediate stop`: no
   * checkpoint, clients cut off); resolves once it has exited. Its data dir stays.
   */
  crashPrimary(): Promise<void>;
  /**
   * Promotes the standby (`pg_ctl promote`) and resolves once it accepts
   * writes; returns the milliseconds that took.
   */
  promoteStandby(): Promise<number>;
  /** Stops both servers and deletes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const SLOT = "pq_standby";

/** Server flags both nodes get (the standby needs max_connections ≥ the primary's). */
function serverArgs(dataDir: string, port: number, socketDir: string): string[] {
  const settings = [
    "listen_addresses=127.0.0.1",
    "max_connections=300",
    "fsync=on",
    "wal_level=replica",
    "max_wal_senders=5",
    "max_replication_slots=5",
    "hot_standby=on",
    // The standby reports its flush position often, so a synchronous COMMIT waits little.
    "wal_receiver_status_interval=1s",
  ];
  return [
    "-D",
    dataDir,
    "-p",
    String(port),
    "-k",
    socketDir,
    ...settings.flatMap((s) => ["-c", s]),
  ];
}

const urlOf = (port: number, database = "postgres") =>
  `postgres://postgres@127.0.0.1:${port}/${database}`;

/** Polls `check` every 100 ms until it returns true; throws `what` after `timeoutMs`. */
async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(`testkit: ${what} within ${timeoutMs / 1000} s${why}`);
    }
    await sleep(100);
  }
}

/**
 * Starts a PostgreSQL primary on 127.0.0.1 and a streaming standby of it on
 * another port: the primary with wal_level=replica; the standby made with
 * `pg_basebackup -R -X stream -C -S pq_standby -c fast` (a physical
 * replication slot, so the primary keeps the WAL the standby still needs).
 * Resolves once the standby streams (it is in the primary's
 * pg_stat_replication, and with `synchronous` listed as "sync").
 * User `postgres`, trust auth, on both.
 */
export async function startPostgresCluster(
  opts: PostgresClusterOptions = {},
): Promise<PostgresCluster> {
  const bins = await ensurePostgres();
  const user = isRoot() ? await postgresUser() : undefined;
  const dir = await mkdtemp(join(tmpdir(), "pq-pgcluster-"));
  trackTempDir(dir);
  const procs: ManagedProcess[] = [];
  try {
    if (user) await chown(dir, user.uid, user.gid);
    const tool = (name: string, args: string[], logFile: string) =>
      runTool({ command: join(bins.bin, name), args, cwd: dir, logFile, user, env: bins.env });

    const primaryData = join(dir, "primary");
    const primaryLog = join(dir, "primary.log");
    await tool(
      "initdb",
      ["-D", primaryData, "-A", "trust", "-U", "postgres", "--encoding=UTF8", "--no-locale"],
      primaryLog,
    );
    const primaryPort = await freePort();
    const primary = startNode(bins, user, dir, primaryData, primaryPort, primaryLog);
    procs.push(primary);
    await primary.waitReady("PostgreSQL primary", () => pgVersion(urlOf(primaryPort)));

    const standbyData = join(dir, "standby");
    const standbyLog = join(dir, "standby.log");
    await tool(
      "pg_basebackup",
      [
        ...["-h", "127.0.0.1", "-p", String(primaryPort), "-U", "postgres"],
        ...["-D", standbyData, "-R", "-X", "stream", "-C", "-S", SLOT, "-c", "fast"],
      ],
      standbyLog,
    );
    const standbyPort = await freePort();
    const standby = startNode(bins, user, dir, standbyData, standbyPort, standbyLog);
    procs.push(standby);
    await standby.waitReady("PostgreSQL standby", () => pgVersion(urlOf(standbyPort)));

    const synchronous = opts.synchronous ?? false;
    if (synchronous) {
      // Set only now, and only on the primary (ALTER SYSTEM writes its own
      // postgresql.auto.conf, which the standby copied before): the promoted
      // standby must not wait for a standby it does not have.
      await withPg(urlOf(primaryPort), async (c) => {
        await c.query("ALTER SYSTEM SET synchronous_standby_names = '*'");
        await c.query("SELECT pg_reload_conf()");
      });
    }
    await waitFor("the standby did not stream from the primary", () =>
      withPg(urlOf(primaryPort), async (c) => {
        const { rows } = await c.query<{ state: string; sync_state: string }>(
          "SELECT state, sync_state FROM pg_stat_replication",
        );
        const row = rows[0];
        return row?.state === "streaming" && (!synchronous || row.sync_state === "sync");
      }),
    );
    return new Cluster(
      dir,
      synchronous,
      { port: primaryPort, url: urlOf(primaryPort), dataDir: primaryData },
      { port: standbyPort, url: urlOf(standbyPort), dataDir: standbyData },
      primary,
      standby,
      tool,
    );
  } catch (error) {
    await Promise.all(procs.map((p) => p.stop(2_000)));
    await rm(dir, { recursive: true, force: true });
    untrackTempDir(dir);
    throw error;
  }
}

function startNode(
  bins: PostgresBinaries,
  user: { uid: number; gid: number } | undefined,
  dir: string,
  dataDir: string,
  port: number,
  logFile: string,
): ManagedProcess {
  // The postmaster itself, not pg_ctl: our signals and the exit hook's SIGKILL reach it.
  // SIGINT is PostgreSQL's "fast" shutdown.
  const proc = new ManagedProcess(
    {
      command: join(bins.bin, "postgres"),
      args: serverArgs(dataDir, port, dir),
      cwd: dir,
      logFile,
      user,
      env: bins.env,
    },
    "SIGINT",
  );
  proc.start();
  return proc;
}

class Cluster implements PostgresCluster {
  private stopping: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    readonly synchronous: boolean,
    readonly primary: PostgresNode,
    readonly standby: PostgresNode,
    private readonly primaryProc: ManagedProcess,
    private readonly standbyProc: ManagedProcess,
    private readonly tool: (name: string, args: string[], logFile: string) => Promise<void>,
  ) {}

  get url(): string {
    return this.urlFor("postgres");
  }

  urlFor(database: string): string {
    const hosts = [this.primary.port, this.standby.port].map((p) => `127.0.0.1:${p}`).join(",");
    return `postgres://postgres@${hosts}/${encodeURIComponent(database)}?target_session_attrs=read-write`;
  }

  async crashPrimary(): Promise<void> {
    if (this.stopping) throw new Error("testkit: the cluster was stopped");
    await this.tool(
      "pg_ctl",
      ["-D", this.primary.dataDir, "-m", "immediate", "-w", "stop"],
      join(this.dir, "primary.log"),
    );
    await this.primaryProc.stop(2_000); // reaps it (already gone: no signal lands)
  }

  async promoteStandby(): Promise<number> {
    if (this.stopping) throw new Error("testkit: the cluster was stopped");
    const t0 = Date.now();
    await this.tool(
      "pg_ctl",
      ["-D", this.standby.dataDir, "-w", "-t", "30", "promote"],
      join(this.dir, "standby.log"),
    );
    await waitFor("the promoted standby did not accept writes", () =>
      withPg(this.standby.url, async (c) => {
        const { rows } = await c.query<{ r: boolean }>("SELECT pg_is_in_recovery() AS r");
        if (rows[0]?.r !== false) return false;
        await c.query("CREATE TEMP TABLE pq_promoted (x int)"); // a write
        return true;
      }),
    );
    return Date.now() - t0;
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all([this.primaryProc.stop(), this.standbyProc.stop()]);
      await rm(this.dir, { recursive: true, force: true });
      untrackTempDir(this.dir);
    })();
    return this.stopping;
  }
}
