// The conformance target opened as ./open.mjs does, with claims forced to the
// optimistic mode (no SKIP LOCKED): the tests in *.optimistic.test.ts and, through
// `openModule`, the worker processes they spawn.
import { withClaimLocking } from "@persistent-queue/core";
import { open as openPlain } from "./open.mjs";

export async function open(target) {
  const opened = await openPlain(target);
  return { ...opened, db: withClaimLocking(opened.db, "optimistic") };
}
