import { describe } from "vitest";
import { type AdapterUnderTest, cellName, type TargetKind } from "../context.js";
import { actionTests } from "./actions.js";
import { claimAheadTests } from "./claim-ahead.js";
import { concurrencyTests } from "./concurrency.js";
import { definitionTests } from "./definitions.js";
import { durabilityTests } from "./durability.js";
import { featureTests } from "./features.js";
import { flowControlProcessTests, flowControlTests } from "./flow-control.js";
import { goLibraryTests } from "./go-library.js";
import { handOffTests } from "./hand-off.js";
import { hardeningTests, statementLimitTests } from "./hardening.js";
import { killTests } from "./kill.js";
import { overviewTests } from "./overview.js";
import { priorityTests } from "./priorities.js";
import { resultsTests } from "./results.js";
import { retentionTests } from "./retention.js";
import { scheduleTests } from "./schedules.js";
import { semanticsTests } from "./semantics.js";
import { shedLockTests } from "./shed-lock.js";
import { telemetryTests } from "./telemetry.js";
import { uniqueKeyTests } from "./unique-keys.js";

type Group = (adapter: AdapterUnderTest, kind: TargetKind) => void;

/** The engine suite's groups, in order; `claims` marks those that exercise the claim path. */
const groups: readonly { title: string; tests: Group; claims: boolean }[] = [
  { title: "status semantics", tests: semanticsTests, claims: true },
  { title: "durability and enqueue", tests: durabilityTests, claims: false },
  { title: "competing consumers and leases", tests: concurrencyTests, claims: true },
  { title: "ShedLock", tests: shedLockTests, claims: false },
  { title: "firstPullDay, schemas, events, wake-ups", tests: featureTests, claims: true },
  { title: "job definitions and names", tests: definitionTests, claims: false },
  { title: "priorities and the due-ordered claim", tests: priorityTests, claims: true },
  { title: "worker killed", tests: killTests, claims: true },
  { title: "in-process hand-off", tests: handOffTests, claims: true },
  { title: "claim-ahead and outcome writes", tests: claimAheadTests, claims: true },
  { title: "results, progress and waitFor", tests: resultsTests, claims: false },
  { title: "job actions and listJobs", tests: actionTests, claims: false },
  { title: "lifecycle, outages and bookkeeping", tests: hardeningTests, claims: true },
  { title: "a Go service on the same table", tests: goLibraryTests, claims: true },
  { title: "unique keys", tests: uniqueKeyTests, claims: false },
  { title: "retention and prune", tests: retentionTests, claims: false },
  { title: "cron schedules", tests: scheduleTests, claims: false },
  { title: "flow control", tests: flowControlTests, claims: true },
  { title: "OpenTelemetry and Prometheus", tests: telemetryTests, claims: false },
  { title: "finished-job counters", tests: overviewTests, claims: false },
];

/**
 * The engine part of the conformance suite: the queue, its leases and
 * ShedLock running on the adapter, on every database it supports.
 *
 * `only: "claims"` runs the groups that claim jobs under contention, order them, limit
 * them or take them back (semantics, leases, priorities, kills, outages, a Go service beside,
 * flow control, wake-ups): for a cell that changes how jobs are claimed and nothing else
 * (the optimistic claim mode), whose adapter runs the whole suite in its own cell.
 */
export function describeEngineConformance(
  adapter: AdapterUnderTest,
  options: { only?: "claims" } = {},
): void {
  const chosen = options.only === "claims" ? groups.filter((g) => g.claims) : groups;
  for (const kind of adapter.kinds) {
    describe(`${cellName(adapter, kind)}: engine conformance`, () => {
      for (const g of chosen) describe(g.title, () => g.tests(adapter, kind));
    });
  }
}

/**
 * Heavy engine checks (statement parameter limits) that the raw-driver
 * packages run once per database.
 */
export function describeEngineScale(adapter: AdapterUnderTest): void {
  for (const kind of adapter.kinds) {
    describe(`${adapter.adapter} on ${kind}: statement limits`, () =>
      statementLimitTests(adapter, kind));
    describe(`${adapter.adapter} on ${kind}: flow control across processes`, () =>
      flowControlProcessTests(adapter, kind));
  }
}
