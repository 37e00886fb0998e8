// Who may do what, forgery protection, paths and files of the handler (SQLite).
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { JobStatus, PersistentQueue } from "@persistent-queue/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDashboard, type DashboardAction } from "./index.js";
import { client, openSqlite, type Seeded, seed, type TestDatabase } from "./test-fixtures.js";

let target: TestDatabase;
let seeded: Seeded;
let reader: PersistentQueue;
beforeAll(async () => {
  target = await openSqlite();
  seeded = await seed(target.db);
  reader = new PersistentQueue({ db: target.db, serviceName: "reader", jobs: [] });
});
afterAll(() => target?.close());

const failedId = () => seeded.charges[1]!;

describe("readOnly", () => {
  it("refuses every write with 403 and says so in the session", async () => {
    const dashboard = createDashboard({ db: target.db, readOnly: true });
    const api = await client(dashboard);
    const session = await (await api.get("session")).json();
    expect(session).toMatchObject({
      readOnly: true,
      can: {
        retry: false,
        cancel: false,
        promote: false,
        remove: false,
        pause: false,
        resume: false,
      },
    });
    for (const res of [
      await api.post(`jobs/${failedId()}/retry`),
      await api.post("jobs/bulk", { action: "retry", ids: [failedId()] }),
      await api.post("types/1/pause"),
    ]) {
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "ERR_PQ_DASHBOARD_READ_ONLY" } });
    }
    expect(await reader.getJob(failedId())).toMatchObject({ status: JobStatus.Failed });
    expect((await api.get("overview")).status).toBe(200);
  });
});

describe("authorize", () => {
  it("is asked per action: a user who may read but not retry", async () => {
    const asked: DashboardAction[] = [];
    const dashboard = createDashboard({
      db: target.db,
      authorize: async (request, action) => {
        asked.push(action);
        if (request.headers.get("x-user") !== "ops") return false;
        return action !== "retry";
      },
    });
    const headers = { "x-user": "ops" };
    const get = (path: string, h: Record<string, string> = headers) =>
      dashboard(new Request(`http://dash.test/api/${path}`, { headers: h }));
    expect((await get("overview", {})).status).toBe(403);
    const session = (await (await get("session")).json()) as {
      csrfToken: string;
      can: Record<string, boolean>;
    };
    expect(session.can).toMatchObject({ retry: false, cancel: true });
    const post = (path: string) =>
      dashboard(
        new Request(`http://dash.test/api/${path}`, {
          method: "POST",
          headers: {
            ...headers,
            "x-pq-csrf": session.csrfToken,
            "content-type": "application/json",
          },
          body: "{}",
        }),
      );
    const refused = await post(`jobs/${failedId()}/retry`);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: "ERR_PQ_DASHBOARD_FORBIDDEN" } });
    expect(await reader.getJob(failedId())).toMatchObject({ status: JobStatus.Failed });
    expect(asked).toContain("read");
    expect(asked).toContain("retry");
    // The index page is a read too.
    expect((await dashboard(new Request("http://dash.test/"))).status).toBe(403);
  });
});

describe("metrics", () => {
  it("GET /metrics is its own action: a scraper may be let in where pages are not, and refused", async () => {
    const dashboard = createDashboard({
      db: target.db,
      authorize: (request, action) =>
        action === "metrics" ? request.headers.get("authorization") === "Bearer scrape" : false,
    });
    const scrape = (headers: Record<string, string>) =>
      dashboard(new Request("http://dash.test/metrics", { headers }));
    const ok = await scrape({ authorization: "Bearer scrape" });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^persistent_queue_jobs\{job_type="\d+",status="\w+"\} \d+$/m);
    expect((await scrape({})).status).toBe(403);
    expect((await dashboard(new Request("http://dash.test/api/overview"))).status).toBe(403);
    expect(
      (await dashboard(new Request("http://dash.test/metrics", { method: "POST" }))).status,
    ).toBe(405);
  });
});

describe("forgery protection", () => {
  const dashboard = () => createDashboard({ db: target.db, csrfToken: "s3cret-token-for-tests" });

  it("a write needs the token header, a same-origin Sec-Fetch-Site and a matching Origin", async () => {
    const handler = dashboard();
    const write = (headers: Record<string, string>) =>
      handler(
        new Request(`http://dash.test/api/jobs/${failedId()}/retry`, {
          method: "POST",
          headers: { "content-type": "application/json", host: "dash.test", ...headers },
          body: "{}",
        }),
      );
    const token = { "x-pq-csrf": "s3cret-token-for-tests" };
    for (const headers of [
      {},
      { "x-pq-csrf": "wrong" },
      { ...token, "sec-fetch-site": "cross-site" },
      { ...token, "sec-fetch-site": "same-site" },
      { ...token, origin: "https://evil.example" },
    ]) {
      const res = await write(headers);
      expect(res.status, JSON.stringify(headers)).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "ERR_PQ_DASHBOARD_CSRF" } });
    }
    expect(await reader.getJob(failedId())).toMatchObject({ status: JobStatus.Failed });
    // A form post (no custom header possible) cannot get through either.
    const form = await handler(
      new Request(`http://dash.test/api/jobs/${failedId()}/retry`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "a=1",
      }),
    );
    expect(form.status).toBe(403);
    // Behind a proxy that rewrote Host, X-Forwarded-Host names the origin's host.
    const proxied = await write({
      ...token,
      host: "127.0.0.1:8080",
      "x-forwarded-host": "dash.test",
      origin: "http://dash.test",
      "sec-fetch-site": "same-origin",
    });
    expect(proxied.status).toBe(200);
    expect(await reader.getJob(failedId())).toMatchObject({ status: JobStatus.Init });
    await reader.cancel(failedId());
    expect(await reader.getJob(failedId())).toMatchObject({ status: JobStatus.Cancelled });
    // Same origin, with the token: applied.
    const ok = await write({
      ...token,
      "sec-fetch-site": "same-origin",
      origin: "http://dash.test",
    });
    expect(ok.status).toBe(200);
    expect(await reader.getJob(failedId())).toMatchObject({ status: JobStatus.Init });
  });

  it("writes are POST only; the session sends no CORS header", async () => {
    const handler = dashboard();
    const res = await handler(new Request(`http://dash.test/api/jobs/${failedId()}/cancel`));
    expect(res.status).toBe(405);
    const session = await handler(
      new Request("http://dash.test/api/session", { headers: { origin: "https://evil.example" } }),
    );
    expect(session.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("paths and files", () => {
  it("serves the page and its hashed files under basePath, with types and cache headers", async () => {
    const handler = createDashboard({ db: target.db, basePath: "/queues" });
    const redirect = await handler(new Request("http://dash.test/queues?x=1"));
    expect(redirect.status).toBe(308);
    expect(redirect.headers.get("location")).toBe("queues/?x=1");
    const page = await handler(new Request("http://dash.test/queues/"));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await page.text();
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script, html).toBeDefined();
    const js = await handler(new Request(`http://dash.test/queues/${script}`));
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    // No file of the built app is fetched from elsewhere (offline networks).
    const dir = fileURLToPath(new URL("../dist/ui/assets/", import.meta.url));
    for (const f of readdirSync(dir)) {
      const text = await (await handler(new Request(`http://dash.test/queues/assets/${f}`))).text();
      expect(text, f).not.toMatch(/https?:\/\/(fonts|cdn|unpkg|jsdelivr)/);
    }
    for (const path of [
      "/other/api/overview",
      "/queues/assets/../../package.json",
      "/queues/assets/%2e%2e/%2e%2e/package.json",
      "/queues/api/nothing",
      "/queues/nothing.txt",
    ]) {
      expect((await handler(new Request(`http://dash.test${path}`))).status, path).toBe(404);
    }
    expect((await handler(new Request("http://dash.test/queues/api/overview"))).status).toBe(200);
    expect(() => createDashboard({ db: target.db, basePath: "queues/" })).toThrow(/basePath/);
  });
});
