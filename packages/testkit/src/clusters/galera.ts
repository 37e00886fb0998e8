// A throwaway 3-node MariaDB Galera cluster on loopback, for fault tests of
// the queue on a multi-primary cluster. The recipe is TOOLCHAIN.md's
// ("Database clusters on loopback"): Debian's galera-4 provider, rsync state
// transfer, every node on its own 127.0.0.1 ports (SQL, gmcast, IST, SST).
import { execFile } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { RowDataPacket } from "mysql2/promise";
import { ensureDebianBinary, ensureMariaDB, isRoot } from "../internal/binaries.js";
import { withMysql } from "../internal/probes.js";
import {
  freePort,
  logTail,
  ManagedProcess,
  runTool,
  trackTempDir,
  untrackTempDir,
} from "../internal/process.js";

const PROVIDER = "/usr/lib/galera/libgalera_smm.so";

/** A running Galera cluster started by {@link startGaleraCluster}. */
export interface GaleraCluster {
  /** Per node (index 0..size-1): `mysql://root@127.0.0.1:PORT/`, root without a password. */
  readonly urls: readonly string[];
  /** Per node: its SQL port. */
  readonly ports: readonly number[];
  /** The temp dir holding every node's datadir and log (removed by stop()). */
  readonly dir: string;
  /** SIGKILLs node `i` (no clean shutdown: its grastate.dat keeps seqno -1). */
  kill(i: number): Promise<void>;
  /**
   * Restarts a killed node `i`: runs `mariadbd --wsrep-recover` to read its
   * last committed position ("Recovered position" in its log), starts it with
   * `--wsrep-start-position=<uuid:seqno>` so it rejoins by incremental state
   * transfer, and resolves once it is Synced.
   */
  rejoin(i: number): Promise<void>;
  /** `wsrep_local_state_comment` of node `i` ("Synced", "Joining", …). */
  state(i: number): Promise<string>;
  /** Kills every node and removes the temp dir. Idempotent; never throws for a node already dead. */
  stop(): Promise<void>;
}

/** Options of {@link startGaleraCluster}. */
export interface GaleraOptions {
  /** Nodes, default 3 (Galera needs a majority: 3 tolerates one node down). */
  readonly size?: number;
  /** How long to wait for each node to become Synced; default 90 s (a joiner's rsync SST takes ~15 s here). */
  readonly syncTimeoutMs?: number;
}

interface NodePorts {
  readonly sql: number;
  readonly gmcast: number;
  readonly ist: number;
  readonly sst: number;
}

interface Node {
  readonly index: number;
  readonly dir: string;
  readonly dataDir: string;
  readonly logFile: string;
  readonly ports: NodePorts;
  proc: ManagedProcess | undefined;
}

/** Distinct free loopback ports (freePort could hand out one twice in a row). */
async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/**
 * Starts a Galera cluster of `size` MariaDB nodes on 127.0.0.1: installs
 * galera-4 and rsync with apt-get if missing (root on Debian), bootstraps node
 * 0 with `--wsrep-new-cluster`, lets the others join by rsync SST, and
 * resolves once every node reports `wsrep_local_state_comment = Synced`. On
 * failure everything started is killed and the temp dir removed.
 */
export async function startGaleraCluster(opts: GaleraOptions = {}): Promise<GaleraCluster> {
  const size = opts.size ?? 3;
  const syncTimeoutMs = opts.syncTimeoutMs ?? 90_000;
  const bins = await ensureMariaDB();
  await ensureDebianBinary(PROVIDER, "galera-4");
  await ensureDebianBinary("/usr/bin/rsync", "rsync");

  // As root the nodes run as `mysql`: the joiner's rsync daemon drops to
  // `nobody` when run as root, and state transfer then fails ("Permission denied").
  const owner = isRoot() ? await mysqlUser() : undefined;
  const userArgs = owner ? ["--user=mysql"] : [];

  const dir = await mkdtemp(join(tmpdir(), "pq-galera-"));
  trackTempDir(dir);
  const nodes: Node[] = [];
  const cluster = new Cluster(dir, nodes, bins.mariadbd, userArgs, syncTimeoutMs);
  try {
    await chmod(dir, 0o755); // mkdtemp makes it 0700; the mysql user must reach its node dirs
    const allPorts = await distinctFreePorts(4 * size);
    for (let i = 0; i < size; i++) {
      const nodeDir = join(dir, `node${i + 1}`);
      const dataDir = join(nodeDir, "data");
      await mkdir(dataDir, { recursive: true });
      if (owner) {
        await chown(nodeDir, owner.uid, owner.gid);
        await chown(dataDir, owner.uid, owner.gid);
      }
      const p = allPorts.slice(4 * i, 4 * i + 4) as [number, number, number, number];
      nodes.push({
        index: i,
        dir: nodeDir,
        dataDir,
        logFile: join(nodeDir, "server.log"),
        ports: { sql: p[0], gmcast: p[1], ist: p[2], sst: p[3] },
        proc: undefined,
      });
    }
    const first = nodes[0]!;
    await runTool({
      command: bins.installDb,
      args: [
        "--no-defaults",
        ...userArgs,
        `--datadir=${first.dataDir}`,
        "--auth-root-authentication-method=normal",
        "--skip-test-db",
        `--tmpdir=${first.dir}`,
      ],
      cwd: first.dir,
      logFile: first.logFile,
    });
    await cluster.startNode(first, ["--wsrep-new-cluster"]);
    // One joiner at a time: two simultaneous rsync SSTs from one donor on 2 cores
    // only slow each other down, and a failure names its node.
    for (const node of nodes.slice(1)) await cluster.startNode(node, []);
    return cluster;
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}

async function mysqlUser(): Promise<{ uid: number; gid: number }> {
  const run = promisify(execFile);
  try {
    const uid = Number((await run("id", ["-u", "mysql"])).stdout.trim());
    const gid = Number((await run("id", ["-g", "mysql"])).stdout.trim());
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  } catch {
    // below
  }
  throw new Error(
    "testkit cannot start Galera as root: no `mysql` OS user (Debian's mariadb-server creates one)",
  );
}

class Cluster implements GaleraCluster {
  private stopping: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    private readonly nodes: Node[],
    private readonly mariadbd: string,
    private readonly userArgs: readonly string[],
    private readonly syncTimeoutMs: number,
  ) {}

  get urls(): string[] {
    return this.nodes.map((n) => `mysql://root@127.0.0.1:${n.ports.sql}/`);
  }
  get ports(): number[] {
    return this.nodes.map((n) => n.ports.sql);
  }

  /** The flags every start of `node` shares (the normal start, --wsrep-recover, the rejoin). */
  private args(node: Node): string[] {
    const members = this.nodes.map((n) => `127.0.0.1:${n.ports.gmcast}`).join(",");
    const provider = [
      `gmcast.listen_addr=tcp://127.0.0.1:${node.ports.gmcast}`,
      `ist.recv_addr=127.0.0.1:${node.ports.ist}`,
      "gcache.size=32M",
    ].join(";");
    return [
      "--no-defaults",
      ...this.userArgs,
      `--datadir=${node.dataDir}`,
      `--port=${node.ports.sql}`,
      "--bind-address=127.0.0.1",
      `--socket=${join(node.dir, "mysqld.sock")}`,
      `--pid-file=${join(node.dir, "mariadbd.pid")}`,
      `--tmpdir=${node.dir}`,
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=64M",
      "--max-connections=500",
      "--character-set-server=utf8mb4",
      "--collation-server=utf8mb4_unicode_ci",
      "--wsrep-on=ON",
      `--wsrep-provider=${PROVIDER}`,
      `--wsrep-cluster-address=gcomm://${members}`,
      `--wsrep-provider-options=${provider}`,
      `--wsrep-sst-receive-address=127.0.0.1:${node.ports.sst}`,
      "--wsrep-node-address=127.0.0.1",
      `--wsrep-node-name=node${node.index + 1}`,
      "--wsrep-sst-method=rsync",
      "--binlog-format=ROW",
      "--innodb-autoinc-lock-mode=2",
    ];
  }

  /** Starts `node` with `extra` flags and waits for it to be Synced. */
  async startNode(node: Node, extra: readonly string[]): Promise<void> {
    // SIGKILL is the only way we ever stop a node: kill(i) means a crash, and
    // stop() removes the data anyway.
    const proc = new ManagedProcess(
      {
        command: this.mariadbd,
        args: [...this.args(node), ...extra],
        cwd: node.dir,
        logFile: node.logFile,
      },
      "SIGKILL",
    );
    // A test that timed out may have stopped the cluster while a rejoin ran its recover step:
    // a node started now would outlive the test (stop() killed the nodes it knew of).
    if (this.stopping) throw new Error("the Galera cluster was stopped");
    node.proc = proc;
    proc.start();
    await proc.waitReady(
      `Galera node ${node.index + 1}`,
      async () => {
        const state = await this.state(node.index);
        if (state !== "Synced") throw new Error(`wsrep_local_state_comment = ${state}`);
      },
      this.syncTimeoutMs,
    );
  }

  private node(i: number): Node {
    const node = this.nodes[i];
    if (!node) throw new Error(`no Galera node ${i} (the cluster has ${this.nodes.length})`);
    return node;
  }

  async state(i: number): Promise<string> {
    const node = this.node(i);
    return withMysql({ host: "127.0.0.1", port: node.ports.sql, user: "root" }, async (conn) => {
      const [rows] = await conn.query<RowDataPacket[]>(
        "SHOW STATUS LIKE 'wsrep_local_state_comment'",
      );
      return String(rows[0]?.Value ?? "(none)");
    });
  }

  async kill(i: number): Promise<void> {
    await this.node(i).proc?.stop();
  }

  async rejoin(i: number): Promise<void> {
    if (this.stopping) throw new Error("the Galera cluster was stopped");
    const node = this.node(i);
    if (node.proc?.running) throw new Error(`Galera node ${i + 1} is still running; kill it first`);
    const before = (await readFile(node.logFile, "utf8")).length;
    await runTool({
      command: this.mariadbd,
      args: [...this.args(node), "--wsrep-recover"],
      cwd: node.dir,
      logFile: node.logFile,
    });
    const recovered = (await readFile(node.logFile, "utf8")).slice(before);
    const match = /Recovered position:?\s+([0-9a-f-]{36}:-?\d+)/i.exec(recovered);
    if (!match)
      throw new Error(
        `Galera node ${i + 1}: --wsrep-recover printed no "Recovered position"\n${logTail(node.logFile)}`,
      );
    await this.startNode(node, [`--wsrep-start-position=${match[1]}`]);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await Promise.all(this.nodes.map((n) => n.proc?.stop()));
      await rm(this.dir, { recursive: true, force: true });
      untrackTempDir(this.dir);
    })();
    return this.stopping;
  }
}
