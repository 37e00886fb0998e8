/**
 * Worker hosts for the fault tests that need more than one host (partition,
 * many hosts): each host is a network namespace joined to the database host
 * (this, the root namespace) by a veth pair with a private /30, and runs
 * host-worker.mjs. A host's link can be cut so that packets vanish both ways.
 *
 * Needs root and iproute2 (`ip netns`, `tc`); {@link netnsMissing} says why not.
 * Namespaces, links and worker processes are removed at exit whatever happens,
 * and a later run removes those of an earlier run that died.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll } from "vitest";
import type { ServerKind } from "./harness.js";

const WORKER = fileURLToPath(new URL("./host-worker.mjs", import.meta.url));
const execFileAsync = promisify(execFile);

/** Runs a command of iproute2 (`ip`, `tc`); rejects with its stderr. */
async function run(command: string, ...args: string[]): Promise<string> {
  try {
    return (await execFileAsync(command, args)).stdout;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")}: ${(e.stderr || e.message).trim()}`);
  }
}

/** Why this machine cannot make network namespaces for a test; undefined when it can. */
export async function netnsMissing(): Promise<string | undefined> {
  if (process.platform !== "linux")
    return `network namespaces are Linux-only (this is ${process.platform})`;
  if (process.getuid?.() !== 0)
    return `\`ip netns\` and veth pairs need root (CAP_NET_ADMIN, CAP_SYS_ADMIN); this runs as uid ${process.getuid?.()}`;
  for (const tool of ["ip", "tc"]) {
    try {
      await execFileAsync(tool, ["-V"]);
    } catch {
      return `\`${tool}\` (iproute2) is not installed: apt-get install iproute2`;
    }
  }
  const probe = `pqpart-${process.pid}-probe`;
  try {
    await run("ip", "netns", "add", probe);
  } catch (error) {
    return `\`ip netns add\` does not work here: ${(error as Error).message}`;
  } finally {
    await execFileAsync("ip", ["netns", "del", probe]).catch(() => undefined);
  }
  return undefined;
}

/** A worker host: a network namespace, and the veth pair joining it to the database host. */
export interface Host {
  /** "a", "b", …: the host's name in worker lines and service names. */
  readonly name: string;
  readonly ns: string;
  /** The root-namespace end of the veth pair (the database host's side). */
  readonly rootDev: string;
  /** The address the database listens on for this host, on rootDev. */
  readonly serverAddress: string;
  /** This host's address, on its `eth0`. */
  readonly address: string;
}

/** Namespaces and veths this process made and has not deleted yet: removed at exit whatever happens. */
const leftovers = { ns: new Set<string>(), dev: new Set<string>() };
/** Worker processes still running: killed at exit whatever happens. */
const liveChildren = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
  for (const ns of leftovers.ns) {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {}
  }
  for (const dev of leftovers.dev) {
    try {
      execFileSync("ip", ["link", "del", dev], { stdio: "ignore" });
    } catch {}
  }
});

afterAll(async () => {
  for (const ns of leftovers.ns) await execFileAsync("ip", ["netns", "del", ns]).catch(() => {});
  for (const dev of leftovers.dev) await execFileAsync("ip", ["link", "del", dev]).catch(() => {});
  leftovers.ns.clear();
  leftovers.dev.clear();
});

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
};

/** Deletes namespaces and veths an earlier run left behind when it died (their pid is gone). */
async function removeDeadRuns(): Promise<void> {
  for (const line of (await run("ip", "netns", "list")).split("\n")) {
    const m = /^(pqpart-(\d+)-\S+)/.exec(line);
    if (m && Number(m[2]) !== process.pid && !isAlive(Number(m[2])))
      await execFileAsync("ip", ["netns", "del", m[1]!]).catch(() => undefined);
  }
  for (const line of (await run("ip", "-o", "link", "show")).split("\n")) {
    const m = /^\d+: (pq([0-9a-z]+)n\d+[a-z])[@:]/.exec(line);
    const pid = m ? Number.parseInt(m[2]!, 36) : 0;
    if (m && pid !== process.pid && !isAlive(pid))
      await execFileAsync("ip", ["link", "del", m[1]!]).catch(() => undefined);
  }
}

/** 10.213.N.0/24 with N free on this host (no address of it in the root namespace), starting from the pid. */
async function freeSubnet(seed: number): Promise<number> {
  const used = await run("ip", "-4", "-o", "addr", "show");
  for (let i = 0; i < 256; i++) {
    const n = (seed + i) % 256;
    if (!used.includes(` 10.213.${n}.`)) return n;
  }
  throw new Error("no free 10.213.N.0/24 on this host for the test's links");
}

let runs = 0;

/**
 * The database host (this, the root namespace) and `count` worker hosts (at
 * most 26), host k on its own veth pair with 10.213.N.4k/30 (database .4k+1,
 * host .4k+2). Names carry the pid, a counter and the host's letter.
 */
export class Network {
  private constructor(
    readonly hosts: readonly Host[],
    /** The worker hosts' links, for the database's trust list. */
    readonly trustNetwork: string,
  ) {}

  static async create(count: number): Promise<Network> {
    if (count < 1 || count > 26) throw new RangeError(`1 to 26 hosts, not ${count}`);
    await removeDeadRuns();
    const n = runs++;
    const subnet = await freeSubnet(process.pid * 2 + n);
    const hosts = Array.from({ length: count }, (_, k): Host => {
      const name = String.fromCharCode(97 + k);
      return {
        name,
        ns: `pqpart-${process.pid}-${n}-${name}`,
        rootDev: `pq${process.pid.toString(36)}n${n}${name}`,
        serverAddress: `10.213.${subnet}.${4 * k + 1}`,
        address: `10.213.${subnet}.${4 * k + 2}`,
      };
    });
    const network = new Network(hosts, `10.213.${subnet}.0/24`);
    try {
      for (const h of hosts) await link(h);
      // Another run may have picked the same subnet at the same moment: only our devices may carry it.
      const ours = new Set(hosts.map((h) => h.rootDev));
      const holders = (await run("ip", "-4", "-o", "addr", "show", "to", `10.213.${subnet}.0/24`))
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[1]!);
      if (holders.some((d) => !ours.has(d)))
        throw new Error(`10.213.${subnet}.0/24 is also on ${holders.join(", ")}; run again`);
    } catch (error) {
      await network.destroy();
      throw error;
    }
    return network;
  }

  /** What the database server needs to reach every host: its addresses and the trust list. */
  get serverOptions(): { listenAddresses: string[]; trustNetworks: string[] } {
    return {
      listenAddresses: this.hosts.map((h) => h.serverAddress),
      trustNetworks: [this.trustNetwork],
    };
  }

  /**
   * Cuts the host's link: from now on every packet either way vanishes (a
   * blackhole qdisc on both ends; no RST, no "unreachable"). Falls back to
   * taking the database end down if the kernel has no blackhole qdisc.
   */
  async cut(h: Host): Promise<"blackhole" | "link-down"> {
    try {
      await Promise.all([
        run("tc", "-n", h.ns, "qdisc", "replace", "dev", "eth0", "root", "blackhole"),
        run("tc", "qdisc", "replace", "dev", h.rootDev, "root", "blackhole"),
      ]);
      return "blackhole";
    } catch {
      await run("ip", "link", "set", h.rootDev, "down");
      return "link-down";
    }
  }

  /** Undoes {@link cut}. */
  async restore(h: Host): Promise<void> {
    await Promise.all([
      execFileAsync("tc", ["-n", h.ns, "qdisc", "del", "dev", "eth0", "root"]).catch(() => {}),
      execFileAsync("tc", ["qdisc", "del", "dev", h.rootDev, "root"]).catch(() => {}),
    ]);
    await run("ip", "link", "set", h.rootDev, "up");
    await staticNeighbours(h); // a link taken down forgets them
  }

  /** Deletes every namespace and veth pair; idempotent, never throws. */
  async destroy(): Promise<void> {
    for (const h of this.hosts) {
      await execFileAsync("ip", ["netns", "del", h.ns]).catch(() => undefined);
      await execFileAsync("ip", ["link", "del", h.rootDev]).catch(() => undefined); // gone with its peer, normally
      leftovers.ns.delete(h.ns);
      leftovers.dev.delete(h.rootDev);
    }
  }
}

/** Makes the host's namespace and veth pair, addresses up, neighbours static. */
async function link(h: Host): Promise<void> {
  leftovers.ns.add(h.ns);
  await run("ip", "netns", "add", h.ns);
  await run("ip", "-n", h.ns, "link", "set", "lo", "up");
  leftovers.dev.add(h.rootDev);
  await run("ip", "link", "add", h.rootDev, "type", "veth", "peer", "name", "eth0", "netns", h.ns);
  await run("ip", "addr", "add", `${h.serverAddress}/30`, "dev", h.rootDev);
  await run("ip", "-n", h.ns, "addr", "add", `${h.address}/30`, "dev", "eth0");
  await run("ip", "link", "set", h.rootDev, "up");
  await run("ip", "-n", h.ns, "link", "set", "eth0", "up");
  await staticNeighbours(h);
}

/**
 * Permanent ARP entries both ways: with them a cut link is pure silence, as
 * across a real network; without them the kernel would soon fail ARP and
 * answer new connections "host unreachable" at once.
 */
async function staticNeighbours(h: Host): Promise<void> {
  const mac = async (args: string[]) =>
    (JSON.parse(await run("ip", "-j", ...args)) as { address: string }[])[0]!.address;
  const rootMac = await mac(["link", "show", "dev", h.rootDev]);
  const hostMac = await mac(["-n", h.ns, "link", "show", "dev", "eth0"]);
  await run(
    "ip",
    "neigh",
    "replace",
    h.address,
    "lladdr",
    hostMac,
    "dev",
    h.rootDev,
    "nud",
    "permanent",
  );
  await run(
    "ip",
    "-n",
    h.ns,
    "neigh",
    "replace",
    h.serverAddress,
    "lladdr",
    rootMac,
    "dev",
    "eth0",
    "nud",
    "permanent",
  );
}

// --------------------------------------------------------------- the workers

/** One line a worker printed: see host-worker.mjs. */
export interface Line {
  /** The host's name ("a", "b", …). */
  readonly host: string;
  readonly word: string;
  readonly id: number;
  readonly t: number;
  /** For `error` lines: what failed, and the message. */
  readonly text?: string;
}

export interface Worker {
  readonly host: Host;
  readonly child: ChildProcess;
  /** The queue's worker id once it has started. */
  readonly ready: Promise<string>;
}

/** How a host's worker runs its jobs (host-worker.mjs's arguments). */
export interface WorkerOptions {
  readonly leaseMs: number;
  readonly handlerMs: number;
  /** Slots of the job type; 8 when left out. */
  readonly capacity?: number;
}

/** Starts host-worker.mjs inside the host's namespace against `url` (rewritten to the host's server address), its lines going to `lines`. */
export function startWorker(
  kind: ServerKind,
  url: string,
  h: Host,
  lines: Line[],
  options: WorkerOptions,
): Worker {
  const u = new URL(url);
  u.hostname = h.serverAddress;
  const child = spawn(
    "ip",
    [
      "netns",
      "exec",
      h.ns,
      process.execPath,
      WORKER,
      kind,
      u.toString(),
      h.name,
      String(options.leaseMs),
      String(options.handlerMs),
      String(options.capacity ?? 8),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
  const name = h.name;
  const ready = new Promise<string>((resolve, reject) => {
    child.once("exit", (code, signal) =>
      reject(new Error(`worker ${name} exited (${code ?? signal}) before it started`)),
    );
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const [word, value, t, ...rest] = line.split(" ");
      if (word === "worker") resolve(value!);
      else if (word === "error")
        lines.push({ host: name, word, id: 0, t: Number(t), text: `${value}: ${rest.join(" ")}` });
      else lines.push({ host: name, word: word!, id: Number(value), t: Number(t) });
    });
  });
  ready.catch(() => undefined); // awaited by the test; an exit later is not an error
  return { host: h, child, ready };
}

export async function killWorker(w: Worker): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((r) => w.child.once("exit", r));
  w.child.kill("SIGKILL");
  await exited;
}

/** Resolves when `cond()` holds; rejects with `what` after `ms`. */
export async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what()} (waited ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
