// Opens the adapter on a conformance target. PGlite is a database inside this process: the
// target's URL (a database the suite made on its PostgreSQL server) only names it. Every open
// of one target shares one in-memory PGlite, so tests that open two handles see one database;
// a new target gets a new, empty one. It is closed when its last handle is.
import { PGlite } from "@electric-sql/pglite";
import { fromPGlite } from "@persistent-queue/pglite";

/** @type {Map<string, { pg: Promise<PGlite>, handles: number }>} */
const open_ = new Map();

// initdb in WebAssembly costs seconds of CPU per database; a fresh one loaded from the data
// directory of one initialised here is the same empty database in a fraction of that.
/** @type {Promise<Blob | File> | undefined} */
let template;
const emptyDataDir = () => {
  template ??= (async () => {
    const pg = await PGlite.create(); // dumpDataDir() before ready never settles
    const dump = await pg.dumpDataDir("none");
    await pg.close();
    return dump;
  })();
  return template;
};

export async function open(target) {
  if (target.kind !== "postgres") throw new Error(`PGlite does not speak ${target.kind}`);
  let entry = open_.get(target.url);
  // A database closed through db.close() (the lifecycle test) is replaced by a fresh one.
  if (!entry || (await entry.pg).closed) {
    entry = { pg: emptyDataDir().then((dir) => PGlite.create({ loadDataDir: dir })), handles: 0 };
    open_.set(target.url, entry);
  }
  entry.handles += 1;
  const pg = await entry.pg;
  let closed = false;
  return {
    db: fromPGlite(pg),
    close: async () => {
      if (closed) return;
      closed = true;
      entry.handles -= 1;
      if (entry.handles > 0) return;
      if (open_.get(target.url) === entry) open_.delete(target.url);
      if (!pg.closed) await pg.close();
    },
  };
}
