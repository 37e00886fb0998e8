// Child processes for throwaway database servers: spawn with output in a log
// file, stop with a signal (SIGKILL after a grace period), and make sure no
// server outlives this Node process.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { appendFileSync, closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** How to run a server (or a one-shot tool) and where its output goes. */
export interface ProcessSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly logFile: string;
  /** Run as this OS user (PostgreSQL refuses to run as root). */
  readonly user?: { uid: number; gid: number } | undefined;
  /** Extra environment variables (e.g. LD_LIBRARY_PATH for binaries from the npm registry). */
  readonly env?: Readonly<Record<string, string>> | undefined;
}

/** process.env with `extra` on top, or undefined (inherit) when there is nothing extra. */
function withEnv(extra: ProcessSpec["env"]): NodeJS.ProcessEnv | undefined {
  return extra ? { ...process.env, ...extra } : undefined;
}

const liveChildren = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooked = false;

function killEverything(): void {
  for (const child of liveChildren) child.kill("SIGKILL");
  liveChildren.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/**
 * Installs, once, the hooks that SIGKILL every running server and remove the
 * temp dirs when this process ends. On SIGINT/SIGTERM/SIGHUP Node runs no
 * 'exit' handlers, so those get a one-shot handler too, which re-raises the
 * signal when nobody else listens (so the default "terminate" still happens).
 */
function hookProcessExit(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", killEverything);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killEverything();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Remember a temp dir so the exit hook removes it if stop() never runs. */
export function trackTempDir(dir: string): void {
  hookProcessExit();
  tempDirs.add(dir);
}
export function untrackTempDir(dir: string): void {
  tempDirs.delete(dir);
}

/** A port that was free a moment ago: bind 127.0.0.1:0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("no port assigned"))));
    });
  });
}

/** The last `lines` lines of a log file, indented, or a note that there is none. */
export function logTail(file: string, lines = 25): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return `  (no log at ${file})`;
  }
  const tail = text.trimEnd().split("\n").slice(-lines);
  return `--- last lines of ${file} ---\n${tail.map((l) => `  ${l}`).join("\n")}`;
}

/** Runs a one-shot tool to completion, its output appended to the log; rejects with the log tail. */
export function runTool(spec: ProcessSpec, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      spec.command,
      [...spec.args],
      {
        cwd: spec.cwd,
        env: withEnv(spec.env),
        timeout: timeoutMs,
        maxBuffer: 16 << 20,
        ...spec.user,
      },
      (error, stdout, stderr) => {
        appendFileSync(
          spec.logFile,
          `$ ${spec.command} ${spec.args.join(" ")}\n${stdout}${stderr}`,
        );
        if (!error) return resolve();
        reject(new Error(`${spec.command} failed: ${error.message}\n${logTail(spec.logFile)}`));
      },
    );
  });
}

/** A long-running server process that can be stopped and started again with the same arguments. */
export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Why the last child ended ("code 1", "signal SIGKILL", or a spawn error), once it has. */
  exitReason: string | undefined;

  constructor(
    readonly spec: ProcessSpec,
    /** The signal that shuts this server down cleanly. */
    private readonly stopSignal: NodeJS.Signals,
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.exitReason === undefined;
  }

  start(): void {
    if (this.running) throw new Error(`${this.spec.command} is already running`);
    hookProcessExit();
    const { command, args, cwd, logFile, user, env } = this.spec;
    appendFileSync(logFile, `\n$ ${command} ${args.join(" ")}\n`);
    // The child writes straight into the log file: no pipe for Node to drain,
    // and nothing breaks if this process dies first.
    const fd = openSync(logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(command, [...args], {
        cwd,
        env: withEnv(env),
        stdio: ["ignore", fd, fd],
        ...user,
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    this.exitReason = undefined;
    liveChildren.add(child);
    this.exited = new Promise((resolve) => {
      const done = (reason: string) => {
        liveChildren.delete(child);
        this.exitReason ??= reason;
        resolve();
      };
      child.once("error", (error) => done(`spawn error: ${error.message}`));
      child.once("exit", (code, signal) => done(signal ? `signal ${signal}` : `code ${code}`));
    });
  }

  /** Sends the clean-shutdown signal, waits up to `graceMs` for exit, then SIGKILLs. */
  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return this.exited;
    child.kill(this.stopSignal);
    const inTime = await Promise.race([
      this.exited.then(() => true),
      sleep(graceMs, false, { ref: false }),
    ]);
    if (!inTime) child.kill("SIGKILL");
    await this.exited;
  }

  /**
   * Polls `probe` every 100 ms until it resolves; fails fast if the process
   * exits, or after `timeoutMs`, with the log tail in the error.
   */
  async waitReady<T>(what: string, probe: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      if (!this.running) {
        const reason = this.exitReason ?? "never started";
        throw new ServerExitedError(
          `${what} exited before accepting connections (${reason})\n${logTail(this.spec.logFile)}`,
        );
      }
      try {
        return await probe();
      } catch (error) {
        lastError = error;
      }
      if (Date.now() >= deadline) {
        const last = lastError instanceof Error ? lastError.message : String(lastError);
        throw new Error(
          `${what} did not accept connections within ${timeoutMs / 1000} s (last error: ${last})\n` +
            logTail(this.spec.logFile),
        );
      }
      await sleep(100);
    }
  }
}

/** The server process ended while we waited for it; the message holds its log tail. */
export class ServerExitedError extends Error {
  /** True if the log says the port was taken (someone grabbed our "free" port first). */
  get portInUse(): boolean {
    return /address already in use|bind on tcp\/ip port|could not bind|could not create listen socket/i.test(
      this.message,
    );
  }
}

/**
 * Calls `attempt` with `fixed` if given; otherwise with a free port, retrying
 * twice with another one if the server found its port already taken.
 */
export async function withPort<T>(
  fixed: number | undefined,
  attempt: (port: number) => Promise<T>,
): Promise<T> {
  if (fixed !== undefined) return attempt(fixed);
  for (let tries = 1; ; tries++) {
    try {
      return await attempt(await freePort());
    } catch (error) {
      if (tries >= 3 || !(error instanceof ServerExitedError && error.portInUse)) throw error;
    }
  }
}
