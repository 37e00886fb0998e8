import { describe } from "vitest";
import { type AdapterUnderTest, cellName } from "../context.js";
import { bindingTests } from "./binding.js";
import { goReaderTests } from "./go-readers.js";
import { lifecycleTests } from "./lifecycle.js";
import { schemaTests } from "./schema.js";
import { transactionTests } from "./transactions.js";

/**
 * The database part of the conformance suite: every adapter runs it on every
 * database it supports. An adapter package's test is one call.
 */
export function describeDbConformance(adapter: AdapterUnderTest): void {
  for (const kind of adapter.kinds) {
    describe(`${cellName(adapter, kind)}: database conformance`, () => {
      describe("binding and results", () => bindingTests(adapter, kind));
      describe("transactions", () => transactionTests(adapter, kind));
      describe("schema and migrations", () => schemaTests(adapter, kind));
      describe("the Go library's readers", () => goReaderTests(adapter, kind));
      describe("ping, close and restarts", () => lifecycleTests(adapter, kind));
    });
  }
}
