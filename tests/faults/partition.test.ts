/**
 * Fault: a network partition between hosts. The database runs on this host
 * (the root network namespace); two worker hosts are network namespaces of
 * their own, each joined to it by a veth pair with a private /30. Both drain
 * a load of slow jobs; mid-run, worker host A's link is cut so that packets
 * vanish both ways (a blackhole qdisc on both ends, static ARP so nothing
 * answers "unreachable"). Host B must take A's jobs over once their leases
 * expire. Then the link returns: A's late completions must be fenced off (the
 * engine writes a result only with the current lease token). Every job ends
 * Success, none twice, and only jobs A held when it was cut run again.
 *
 * Needs root and iproute2 (`ip netns`, `tc`); without them the test is
 * skipped with the reason, or fails when CI=true.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { PersistentQueue } from "@persistent-queue/core";
import { afterAll, describe, expect, it } from "vitest";
import { allFinal, dedicatedServer, type ServerKind } from "./harness.js";

const WORKER = fileURLToPath(new URL("./partition-worker.mjs", import.meta.url));
const JOBS = 400;
const HANDLER_MS = 300;
const LEASE_MS = 4000;

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

/** Why this machine cannot make network namespaces for the test; undefined when it can. */
async function netnsMissing(): Promise<string | undefined> {
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

const missing = netnsMissing();
const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? "");

// ---------------------------------------------------------------- the hosts

/** A worker host: a network namespace, and the veth pair joining it to the database host. */
interface Host {
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
    const m = /^\d+: (pq([0-9a-z]+)n\d+[ab])[@:]/.exec(line);
    const pid = m ? Number.parseInt(m[2]!, 36) : 0;
    if (m && pid !== process.pid && !isAlive(pid))
      await execFileAsync("ip", ["link", "del", m[1]!]).catch(() => undefined);
  }
}

/** 10.213.N.0/29 with N free on this host (no address of it in the root namespace), starting from the pid. */
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
 * The database host (this, the root namespace) and worker hosts A and B,
 * each on its own veth pair: A on 10.213.N.0/30 (database .1, A .2), B on
 * 10.213.N.4/30 (database .5, B .6). Names carry the pid and a counter.
 */
class Network {
  private constructor(
    readonly a: Host,
    readonly b: Host,
    /** Both worker hosts' links, for the database's trust list. */
    readonly trustNetwork: string,
  ) {}

  static async create(): Promise<Network> {
    await removeDeadRuns();
    const n = runs++;
    const subnet = await freeSubnet(process.pid * 2 + n);
    const host = (side: "a" | "b", base: number): Host => ({
      ns: `pqpart-${process.pid}-${n}-${side}`,
      rootDev: `pq${process.pid.toString(36)}n${n}${side}`,
      serverAddress: `10.213.${subnet}.${base + 1}`,
      address: `10.213.${subnet}.${base + 2}`,
    });
    const network = new Network(host("a", 0), host("b", 4), `10.213.${subnet}.0/29`);
    try {
      for (const h of [network.a, network.b]) await link(h);
      // Another run may have picked the same subnet at the same moment: only our two devices may carry it.
      const holders = (await run("ip", "-4", "-o", "addr", "show", "to", `10.213.${subnet}.0/24`))
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[1]);
      if (holders.some((d) => d !== network.a.rootDev && d !== network.b.rootDev))
        throw new Error(`10.213.${subnet}.0/24 is also on ${holders.join(", ")}; run again`);
    } catch (error) {
      await network.destroy();
      throw error;
    }
    return network;
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

  /** Deletes both namespaces and veth pairs; idempotent, never throws. */
  async destroy(): Promise<void> {
    for (const h of [this.a, this.b]) {
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

afterAll(async () => {
  for (const ns of leftovers.ns) await execFileAsync("ip", ["netns", "del", ns]).catch(() => {});
  for (const dev of leftovers.dev) await execFileAsync("ip", ["link", "del", dev]).catch(() => {});
  leftovers.ns.clear();
  leftovers.dev.clear();
});

// --------------------------------------------------------------- the workers

/** One line a worker printed: see partition-worker.mjs. */
interface Line {
  readonly host: "a" | "b";
  readonly word: string;
  readonly id: number;
  readonly t: number;
  /** For `error` lines: what failed, and the message. */
  readonly text?: string;
}

interface Worker {
  readonly child: ChildProcess;
  /** The queue's worker id once it has started. */
  readonly ready: Promise<string>;
}

/** Starts partition-worker.mjs inside the host's namespace, its lines going to `lines`. */
function startWorker(
  kind: ServerKind,
  url: string,
  name: "a" | "b",
  h: Host,
  lines: Line[],
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
      name,
      String(LEASE_MS),
      String(HANDLER_MS),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  liveChildren.add(child);
  child.once("exit", () => liveChildren.delete(child));
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
  return { child, ready };
}

async function killWorker(w: Worker): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((r) => w.child.once("exit", r));
  w.child.kill("SIGKILL");
  await exited;
}

/** Resolves when `cond()` holds; rejects with `what` after `ms`. */
async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what()} (waited ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ------------------------------------------------------------------ the test

describe.each<ServerKind>(["mariadb", "postgres"])("%s network partition between hosts", (kind) => {
  it("hands a cut-off host's jobs to the other host and fences its late completions", {
    timeout: 180_000,
  }, async (ctx) => {
    const why = await missing;
    if (why !== undefined) {
      if (inCI) throw new Error(`the partition fault test needs network namespaces: ${why}`);
      console.warn(`[fault partition ${kind}] skipped: ${why}`);
      ctx.skip(why);
    }
    const net = await Network.create();
    let env: Awaited<ReturnType<typeof dedicatedServer>> | undefined;
    const workers: Worker[] = [];
    try {
      env = await dedicatedServer(kind, {
        listenAddresses: [net.a.serverAddress, net.b.serverAddress],
        trustNetworks: [net.trustNetwork],
      });
      const db = env.open();
      const producer = new PersistentQueue({ db, serviceName: "producer", jobs: [] });
      await producer.migrate();
      await producer.addMany(
        Array.from({ length: JOBS }, (_, k) => ({ jobType: 1, params: { n: k } })),
      );

      const lines: Line[] = [];
      const of = (host: "a" | "b" | undefined, word: string, after = 0) =>
        lines.filter(
          (l) => (host === undefined || l.host === host) && l.word === word && l.t >= after,
        );
      const a = startWorker(kind, env.url, "a", net.a, lines);
      const b = startWorker(kind, env.url, "b", net.b, lines);
      workers.push(a, b);
      const [workerA] = await Promise.all([a.ready, b.ready]);

      // Both hosts draining, A with a full load in flight; cut at a random phase of its handlers.
      await until(
        () => of("a", "run").length >= 24 && of("b", "run").length >= 24,
        20_000,
        () => `workers did not get going: ${of("a", "run").length} / ${of("b", "run").length} runs`,
      );
      await new Promise((r) => setTimeout(r, Math.random() * HANDLER_MS));
      const tCut = Date.now();
      const method = await net.cut(net.a);

      // What A held at the cut: every statement of A's that reached the server
      // before the cut is done well within 750 ms; nothing of A's arrives after it.
      await new Promise((r) => setTimeout(r, 750));
      const heldRows = await db.query<{ id: unknown }>(
        kind === "mariadb"
          ? "SELECT id FROM async_job_tab WHERE job_status = 5 AND worker_id = ?"
          : "SELECT id FROM async_job_tab WHERE job_status = 5 AND worker_id = $1",
        [workerA],
      );
      const held = new Set(heldRows.map((r) => Number(r.id)));
      expect(held.size, "host A held no job when its link was cut").toBeGreaterThan(0);

      // B takes them over once their leases expire.
      const doneByB = () => new Map(of("b", "done").map((l) => [l.id, l.t]));
      await until(
        () => [...held].every((id) => doneByB().has(id)),
        30_000,
        () =>
          `host B finished ${[...held].filter((id) => doneByB().has(id)).length} of the ${held.size} jobs A held`,
      );
      const takeover = doneByB();
      const recoveryMs = Math.max(...[...held].map((id) => takeover.get(id)!)) - tCut;

      // The link returns; A's late results must be discarded.
      const tRestore = Date.now();
      await net.restore(net.a);
      const success = await allFinal(db, JOBS, 60_000);
      const ranOnA = new Set(
        of("a", "run")
          .filter((l) => held.has(l.id))
          .map((l) => l.id),
      );
      await until(
        () => [...ranOnA].every((id) => of("a", "fenced").some((l) => l.id === id)),
        45_000,
        () =>
          `host A reported ${of("a", "fenced").length} fenced completions of the ${ranOnA.size} held jobs it ran`,
      );
      const aBack = lines.find(
        (l) => l.host === "a" && l.t >= tRestore && ["done", "fenced", "aborted"].includes(l.word),
      );

      // Every job Success, none twice.
      expect(success).toBe(JOBS);
      const doneCount = new Map<number, number>();
      for (const l of of(undefined, "done")) doneCount.set(l.id, (doneCount.get(l.id) ?? 0) + 1);
      expect([...doneCount].filter(([, c]) => c > 1)).toEqual([]);
      // A's late completions changed nothing: each held job was completed by B, and A's result fenced.
      expect(of("a", "done").filter((l) => held.has(l.id))).toEqual([]);
      const fenced = of(undefined, "fenced");
      expect(fenced.filter((l) => l.host !== "a" || !held.has(l.id))).toEqual([]);
      expect(new Set(fenced.map((l) => l.id))).toEqual(ranOnA);
      // Re-runs only among what A held.
      const runCount = new Map<number, number>();
      for (const l of of(undefined, "run")) runCount.set(l.id, (runCount.get(l.id) ?? 0) + 1);
      const rerun = [...runCount].filter(([, c]) => c > 1).map(([id]) => id);
      expect(rerun.filter((id) => !held.has(id))).toEqual([]);

      const rescued = lines.find((l) => l.word === "rescued" && l.t >= tCut);
      const firstTakeover = Math.min(
        ...of("b", "run", tCut)
          .filter((l) => held.has(l.id))
          .map((l) => l.t),
      );
      // Runs of one job on both hosts at once: A's handler still going when B started it
      // (A cannot learn that its lease expired while it is cut off).
      const endOnA = new Map(of("a", "end").map((l) => [l.id, l.t]));
      const overlapping = of("b", "run").filter(
        (l) => ranOnA.has(l.id) && (endOnA.get(l.id) ?? Number.POSITIVE_INFINITY) > l.t,
      ).length;
      const errors = new Map<string, number>();
      for (const l of of(undefined, "error")) {
        const key = `${l.host}: ${l.text}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
      }
      console.info(
        `[fault partition ${kind}] jobs=${JOBS} handler=${HANDLER_MS}ms lease=${LEASE_MS}ms cut=${method} ` +
          `held-by-A-at-cut=${held.size} re-run=${rerun.length} fenced-late-completions=${fenced.length} ` +
          `lost=0 double-completions=0 recovery=${recoveryMs}ms (cut → A's held jobs all done by B; ` +
          `rescued at +${rescued ? rescued.t - tCut : "?"}ms by ${rescued?.host ?? "?"}, first re-run on B at +${firstTakeover - tCut}ms) ` +
          `partition=${tRestore - tCut}ms A-back-after=${aBack ? `${aBack.t - tRestore}ms` : "n/a"} ` +
          `overlapping-runs=${overlapping} aborted-on-A=${of("a", "aborted").length} bookkeeping-errors=${of(undefined, "error").length}`,
      );
      if (errors.size > 0)
        console.info(
          `[fault partition ${kind}] bookkeeping errors (retried): ${[...errors].map(([e, n]) => `${n}× ${e}`).join("; ")}`,
        );
    } finally {
      await Promise.all(workers.map(killWorker));
      await env?.close().catch(() => undefined);
      await net.destroy();
    }
  });
});
