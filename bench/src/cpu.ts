/**
 * CPU time spent on a measured stretch: by this process (the workers under test
 * and, for SQLite, the database itself) plus the Node processes descended from it
 * that are alive at the time (sidequest runs its engine and job threads in one), and
 * by the database server's processes (every process of that name on the
 * machine: the bench starts its own servers and runs alone), read from /proc,
 * in milliseconds.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import type { TargetKind } from "./servers.js";

/** USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux the bench runs on. */
const TICK_MS = 10;

const SERVER_PROCESS: Partial<Record<TargetKind, string>> = {
  mariadb: "mariadbd",
  postgres: "postgres",
  redis: "redis-server",
};

interface ProcStat {
  pid: number;
  ppid: number;
  name: string;
  /** utime + stime + cutime + cstime, in ticks. */
  ticks: number;
}

function procStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    const open = stat.indexOf("(");
    const close = stat.lastIndexOf(")");
    // After "pid (comm) ": state is field 3, ppid 4; utime, stime, cutime, cstime are fields 14-17.
    const fields = stat.slice(close + 2).split(" ");
    out.push({
      pid: Number(entry),
      ppid: Number(fields[1]),
      name: stat.slice(open + 1, close),
      ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
    });
  }
  return out;
}

/**
 * CPU ms of every live process named `name`, with what their exited children used
 * (a PostgreSQL backend that ended is counted in its postmaster's cutime).
 */
function processCpuMs(stats: readonly ProcStat[], name: string): number {
  let ticks = 0;
  for (const p of stats) if (p.name === name) ticks += p.ticks;
  return ticks * TICK_MS;
}

/** This Node binary: forked workers run it too (their comm is "node", or "MainThread" on Node 24). */
const NODE_BINARY = realpathSync(process.execPath);

function runsNode(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === NODE_BINARY;
  } catch {
    return false; // exited meanwhile
  }
}

/**
 * CPU ms of the live Node processes descended from this one (the database servers
 * the bench started are descendants too, running other binaries, and not counted).
 */
function forkedNodeCpuMs(stats: readonly ProcStat[]): number {
  const ours = new Set([process.pid]);
  // Parents come before children in pid order except after pid wrap-around: repeat until stable.
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of stats)
      if (!ours.has(p.pid) && ours.has(p.ppid)) {
        ours.add(p.pid);
        grew = true;
      }
  }
  let ticks = 0;
  for (const p of stats)
    if (p.pid !== process.pid && ours.has(p.pid) && runsNode(p.pid)) ticks += p.ticks;
  return ticks * TICK_MS;
}

export interface CpuMark {
  readonly worker: NodeJS.CpuUsage;
  readonly forked: number;
  readonly server: number;
  readonly name: string | undefined;
}

export function cpuMark(target: TargetKind): CpuMark {
  const name = SERVER_PROCESS[target];
  const stats = procStats();
  return {
    worker: process.cpuUsage(),
    forked: forkedNodeCpuMs(stats),
    server: name ? processCpuMs(stats, name) : 0,
    name,
  };
}

/**
 * CPU ms per 1,000 jobs since `mark`: this process's with its forked Node processes',
 * and the server's (undefined for SQLite, in-process).
 */
export function cpuPerThousand(
  mark: CpuMark,
  jobs: number,
): { worker: number; server: number | undefined } {
  const used = process.cpuUsage(mark.worker);
  const stats = procStats();
  const per = (ms: number) => ms / (Math.max(1, jobs) / 1000);
  return {
    worker: per((used.user + used.system) / 1000 + forkedNodeCpuMs(stats) - mark.forked),
    server: mark.name ? per(processCpuMs(stats, mark.name) - mark.server) : undefined,
  };
}
