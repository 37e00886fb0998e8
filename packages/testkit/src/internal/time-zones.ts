// MariaDB's named time zones (mysql.time_zone*), loaded from the system's
// tzdata at server start, so tests can run a session in a DST zone
// (`SET time_zone = 'Europe/Berlin'`). A fresh data dir has the tables empty.
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { ensureDebianBinary } from "./binaries.js";

const execFileAsync = promisify(execFile);

const ZONEINFO = "/usr/share/zoneinfo";

/**
 * The zones loaded: DST zones of both hemispheres, a half-hour DST shift, and UTC.
 * Offsets such as '+05:30' need no tables. Add a zone here when a test needs one.
 * Not the whole tzdata: that is ~1,800 zones and took 3-7 s per run on the 2-core CI
 * machine (every test run starts a server); these few take ~0.1 s.
 */
export const LOADED_TIME_ZONES = [
  "Europe/Berlin",
  "America/New_York",
  "Australia/Sydney",
  "Australia/Lord_Howe",
  "UTC",
] as const;

/**
 * Pipes `mariadb-tzinfo-to-sql <file> <zone>` for each of {@link LOADED_TIME_ZONES}
 * into the `mariadb` client on the server's socket, as root. Installs Debian's
 * tzdata first when it is missing and we may.
 */
export async function loadMariaDBTimeZones(bins: {
  tzinfoToSql: string;
  client: string;
  socket: string;
}): Promise<void> {
  await ensureDebianBinary(`${ZONEINFO}/Europe/Berlin`, "tzdata");
  let sql = "";
  for (const zone of LOADED_TIME_ZONES) {
    const { stdout } = await execFileAsync(bins.tzinfoToSql, [`${ZONEINFO}/${zone}`, zone], {
      maxBuffer: 16 << 20,
    });
    sql += stdout;
  }
  await new Promise<void>((resolve, reject) => {
    const client = spawn(
      bins.client,
      ["--no-defaults", `--socket=${bins.socket}`, "--user=root", "mysql"],
      { stdio: ["pipe", "ignore", "pipe"] },
    );
    let stderr = "";
    client.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    client.on("error", reject);
    client.on("close", (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`testkit: loading time zones into MariaDB failed (${code}): ${stderr}`)),
    );
    client.stdin.end(sql);
  });
}
