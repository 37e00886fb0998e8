/**
 * CPU time spent on a measured stretch: by this process (the workers under test
 * and, for SQLite, the database itself) and by the database server's processes
 * (every process of that name on the machine: the bench starts its own servers
 * and runs alone), read from /proc, in milliseconds.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { TargetKind } from "./servers.js";

/** USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux the bench runs on. */
const TICK_MS = 10;

const SERVER_PROCESS: Partial<Record<TargetKind, string>> = {
  mariadb: "mariadbd",
  postgres: "postgres",
  redis: "redis-server",
};

/**
 * CPU ms of every live process named `name`, with what their exited children used
 * (a PostgreSQL backend that ended is counted in its postmaster's cutime).
 */
function processCpuMs(name: string): number {
  let ticks = 0;
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
    if (stat.slice(open + 1, close) !== name) continue;
    // After "pid (comm) ": state is field 3; utime, stime, cutime, cstime are fields 14-17.
    const fields = stat.slice(close + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return ticks * TICK_MS;
}

export interface CpuMark {
  readonly worker: NodeJS.CpuUsage;
  readonly server: number;
  readonly name: string | undefined;
}

export function cpuMark(target: TargetKind): CpuMark {
  const name = SERVER_PROCESS[target];
  return { worker: process.cpuUsage(), server: name ? processCpuMs(name) : 0, name };
}

/** CPU ms per 1,000 jobs since `mark`: this process's, and the server's (undefined for SQLite, in-process). */
export function cpuPerThousand(
  mark: CpuMark,
  jobs: number,
): { worker: number; server: number | undefined } {
  const used = process.cpuUsage(mark.worker);
  const per = (ms: number) => ms / (Math.max(1, jobs) / 1000);
  return {
    worker: per((used.user + used.system) / 1000),
    server: mark.name ? per(processCpuMs(mark.name) - mark.server) : undefined,
  };
}
