// Each mount serves the dashboard through its framework on a real port: a
// read of the API and a write with the token (the body must reach the handler).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboard, expressDashboard, fastifyDashboard, toNodeListener } from "./index.js";
import { openSqlite, type Seeded, seed, type TestDatabase } from "./test-fixtures.js";

let target: TestDatabase;
let seeded: Seeded;
let reader: PersistentQueue;
beforeAll(async () => {
  target = await openSqlite();
  seeded = await seed(target.db);
  reader = new PersistentQueue({ db: target.db, serviceName: "reader", jobs: [] });
});
afterAll(() => target?.close());

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
const closeServer = (server: Server) => new Promise((resolve) => server.close(resolve));

/** Reads the overview and the session, then pauses and resumes type 2 (a body-less write) and bulk-cancels (a JSON body). */
async function exercise(base: string, jobId: number) {
  const overview = await fetch(`${base}/api/overview`);
  expect(overview.status).toBe(200);
  expect(((await overview.json()) as { counts: unknown[] }).counts.length).toBeGreaterThan(2);
  const page = await fetch(`${base}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  const { csrfToken } = (await (await fetch(`${base}/api/session`)).json()) as {
    csrfToken: string;
  };
  const headers = { "content-type": "application/json", "x-pq-csrf": csrfToken };
  const bulk = await fetch(`${base}/api/jobs/bulk`, {
    method: "POST",
    headers,
    body: JSON.stringify({ action: "cancel", ids: [jobId] }),
  });
  expect(await bulk.json()).toEqual({
    action: "cancel",
    results: [{ id: jobId, outcome: "applied" }],
  });
  expect(await reader.getJob(jobId)).toMatchObject({ status: JobStatus.Cancelled });
  const retry = await fetch(`${base}/api/jobs/${jobId}/retry`, { method: "POST", headers });
  expect(await retry.json()).toMatchObject({ outcome: "applied" });
  expect(await reader.getJob(jobId)).toMatchObject({ status: JobStatus.Init });
}

describe("mounts", () => {
  it("Node http: toNodeListener", async () => {
    const server = createServer(toNodeListener(createDashboard({ db: target.db })));
    try {
      await exercise(await listen(server), seeded.orders[0]!);
    } finally {
      await closeServer(server);
    }
  });

  it('Express: app.use("/queues", expressDashboard(…)) next to a JSON body parser elsewhere', async () => {
    const app = express();
    app.use("/queues", expressDashboard(createDashboard({ db: target.db, basePath: "/queues" })));
    app.use(express.json());
    app.get("/health", (_req, res) => {
      res.json({ ok: true });
    });
    const server = createServer(app);
    try {
      const base = await listen(server);
      await exercise(`${base}/queues`, seeded.orders[1]!);
      expect(await (await fetch(`${base}/health`)).json()).toEqual({ ok: true });
      const redirect = await fetch(`${base}/queues`, { redirect: "manual" });
      expect(redirect.status).toBe(308);
    } finally {
      await closeServer(server);
    }
  });

  it("Express: behind a global express.json(), the parsed body reaches the handler", async () => {
    const app = express();
    app.use(express.json());
    app.use("/queues", expressDashboard(createDashboard({ db: target.db, basePath: "/queues" })));
    const server = createServer(app);
    try {
      await reader.retry(seeded.charges[1]!); // failed → waiting: one more job to cancel
      await exercise(`${await listen(server)}/queues`, seeded.charges[1]!);
    } finally {
      await closeServer(server);
    }
  });

  it('Fastify: app.register(fastifyDashboard(…), { prefix: "/queues" })', async () => {
    const app = Fastify();
    await app.register(fastifyDashboard(createDashboard({ db: target.db, basePath: "/queues" })), {
      prefix: "/queues",
    });
    app.post("/echo", async (request) => request.body); // the app's own JSON parsing is untouched
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      await exercise(`${base}/queues`, seeded.orders[2]!);
      const echo = await fetch(`${base}/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ a: 1 }),
      });
      expect(await echo.json()).toEqual({ a: 1 });
    } finally {
      await app.close();
    }
  });

  it('Hono: app.all("/queues/*", (c) => dashboard(c.req.raw))', async () => {
    const dashboard = createDashboard({ db: target.db, basePath: "/queues" });
    const app = new Hono();
    app.all("/queues/*", (c) => dashboard(c.req.raw));
    // Hono is a Fetch handler itself: served here through the Node mount.
    const server = createServer(toNodeListener((request) => Promise.resolve(app.fetch(request))));
    try {
      await reader.retry(seeded.charges[0]!); // failed → waiting: one more job to cancel
      await exercise(`${await listen(server)}/queues`, seeded.charges[0]!);
    } finally {
      await closeServer(server);
    }
  });
});
