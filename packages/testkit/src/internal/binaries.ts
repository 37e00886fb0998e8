// Finding the MariaDB / PostgreSQL server binaries, installing them from
// Debian's packages when we may (root on Debian), and the OS user to run
// PostgreSQL as.
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export const isRoot = (): boolean => process.getuid?.() === 0;

const HINT =
  "install mariadb-server / postgresql, or point PQ_MYSQL_URL / PQ_PG_URL at a server you run " +
  "(e.g. mysql://root@127.0.0.1:3306/ , postgres://postgres@127.0.0.1:5432/postgres)";

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `name` on PATH, or in the sbin dirs (mariadbd lives in /usr/sbin, often not on a user's PATH). */
function which(name: string): string | undefined {
  const dirs = [
    ...(process.env.PATH ?? "").split(delimiter),
    "/usr/sbin",
    "/usr/local/sbin",
    "/sbin",
  ];
  for (const dir of dirs) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

export interface MariaDBBinaries {
  readonly mariadbd: string;
  readonly installDb: string;
  /** The client and the tzdata converter (Debian's mariadb-client, which mariadb-server pulls in), for loading time zones. */
  readonly client: string;
  readonly tzinfoToSql: string;
}

function findMariaDB(): MariaDBBinaries | string {
  const mariadbd = which("mariadbd");
  const installDb = which("mariadb-install-db");
  const client = which("mariadb");
  const tzinfoToSql = which("mariadb-tzinfo-to-sql");
  if (mariadbd && installDb && client && tzinfoToSql)
    return { mariadbd, installDb, client, tzinfoToSql };
  return [
    !mariadbd && "mariadbd",
    !installDb && "mariadb-install-db",
    !client && "mariadb",
    !tzinfoToSql && "mariadb-tzinfo-to-sql",
  ]
    .filter(Boolean)
    .join(" and ");
}

/** The bin dir holding `initdb` and `postgres`: the highest /usr/lib/postgresql/N/bin, else PATH. */
function findPostgres(): string | undefined {
  const hasBoth = (dir: string) =>
    isExecutable(join(dir, "initdb")) && isExecutable(join(dir, "postgres"));
  const base = "/usr/lib/postgresql";
  if (existsSync(base)) {
    const versions = readdirSync(base)
      .filter((v) => /^\d+(\.\d+)?$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (hasBoth(join(base, v, "bin"))) return join(base, v, "bin");
  }
  const initdb = which("initdb");
  const dir = initdb?.slice(0, -"/initdb".length);
  return dir && hasBoth(dir) ? dir : undefined;
}

const installs = new Map<string, Promise<void>>();
/** apt runs one at a time: MariaDB and PostgreSQL are set up in parallel, and apt's locks would clash. */
let aptQueue: Promise<unknown> = Promise.resolve();
let aptUpdated = false;

/** apt-get installs `pkg`, at most once per process; concurrent callers share the one install. */
function aptInstall(pkg: string, missing: string): Promise<void> {
  let install = installs.get(pkg);
  if (!install) {
    console.log(`testkit: ${missing} not found; installing Debian package ${pkg} with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    // Another process (a parallel test worker, CI) may hold the dpkg lock: wait for it.
    const lock = ["-o", "DPkg::Lock::Timeout=300"];
    const opts = { env, maxBuffer: 64 << 20, timeout: 15 * 60_000 };
    install = aptQueue.then(async () => {
      try {
        if (!aptUpdated) await execFileAsync("apt-get", [...lock, "update"], opts);
        aptUpdated = true;
        await execFileAsync("apt-get", [...lock, "install", "-y", pkg], opts);
      } catch (error) {
        const e = error as { message: string; stderr?: string };
        const tail = (e.stderr ?? "").trimEnd().split("\n").slice(-10).join("\n");
        throw new Error(`testkit: apt-get install ${pkg} failed: ${e.message}\n${tail}`);
      }
    });
    aptQueue = install.catch(() => undefined);
    installs.set(pkg, install);
  }
  return install;
}

const canApt = (): boolean => isRoot() && existsSync("/etc/debian_version");

/**
 * Makes sure `binary` exists, installing Debian package `pkg` first if it is
 * missing and we may (root on Debian); otherwise says what to install.
 */
export async function ensureDebianBinary(binary: string, pkg: string): Promise<string> {
  if (!existsSync(binary) && canApt()) await aptInstall(pkg, binary);
  if (!existsSync(binary))
    throw new Error(
      `${binary} not found: install the Debian package ${pkg} (apt-get install ${pkg})`,
    );
  return binary;
}

/** The MariaDB binaries, installing mariadb-server first if they are missing and we may. */
export async function ensureMariaDB(): Promise<MariaDBBinaries> {
  let found = findMariaDB();
  if (typeof found === "string" && canApt()) {
    await aptInstall("mariadb-server", found);
    found = findMariaDB();
  }
  if (typeof found === "string") {
    throw new Error(
      `testkit cannot start MariaDB: ${found} not found on PATH or in /usr/sbin; ${HINT}`,
    );
  }
  return found;
}

/** The PostgreSQL bin dir, installing postgresql first if it is missing and we may. */
export async function ensurePostgres(): Promise<string> {
  const missing = "PostgreSQL server binaries (initdb, postgres)";
  let dir = findPostgres();
  if (!dir && canApt()) {
    await aptInstall("postgresql", missing);
    dir = findPostgres();
  }
  if (!dir) {
    throw new Error(
      `testkit cannot start PostgreSQL: ${missing} not found in /usr/lib/postgresql/*/bin or on PATH; ${HINT}`,
    );
  }
  return dir;
}

/** uid/gid of the `postgres` OS user, to run PostgreSQL as when we are root. */
export async function postgresUser(): Promise<{ uid: number; gid: number }> {
  try {
    const uid = Number((await execFileAsync("id", ["-u", "postgres"])).stdout.trim());
    const gid = Number((await execFileAsync("id", ["-g", "postgres"])).stdout.trim());
    if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid };
  } catch {
    // fall through to the error below
  }
  throw new Error(
    "testkit cannot start PostgreSQL: it refuses to run as root and there is no `postgres` OS user " +
      "(the Debian postgresql package creates one); run as a non-root user, or point PQ_PG_URL at a server you run",
  );
}
