// The dashboard in a real browser: Debian's Chromium driven by playwright-core,
// against dashboards on a real SQLite file and a MariaDB database. Chromium is
// installed with apt when missing (root on Debian, as the database servers are);
// if the browser cannot start, this fails (it is never skipped). PQ_DASHBOARD_SCREENSHOTS=1 also writes
// docs/dashboard-overview.png and docs/dashboard-job.png.
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { type DB, JobStatus, PersistentQueue } from "@persistent-queue/core";
import { ensureDebianBinary } from "@persistent-queue/testkit";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDashboard, type DashboardOptions, toNodeListener } from "./index.js";
import {
  DEFINITIONS,
  FAILURE,
  openMariadb,
  openSqlite,
  type Seeded,
  seed,
  type TestDatabase,
} from "./test-fixtures.js";

const CHROMIUM = "/usr/bin/chromium";
const docs = (name: string) => fileURLToPath(new URL(`../../../docs/${name}`, import.meta.url));
const screenshots = process.env.PQ_DASHBOARD_SCREENSHOTS === "1";

let target: TestDatabase;
let seeded: Seeded;
let reader: PersistentQueue;
let browser: Browser;
const servers: Server[] = [];

beforeAll(async () => {
  if (!existsSync(fileURLToPath(new URL("../dist/ui/index.html", import.meta.url))))
    throw new Error("the dashboard's page is not built: npx turbo run build --filter=./packages/*");
  // As the database servers: installed with apt when missing (root on Debian), else an error.
  await ensureDebianBinary(CHROMIUM, "chromium");
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  target = await openSqlite();
  seeded = await seed(target.db);
  reader = new PersistentQueue({ db: target.db, serviceName: "reader", jobs: [] });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  await target?.close();
});

/** A dashboard on a loopback port, under /queues (on the SQLite database unless `db`). */
async function serve(options: Partial<DashboardOptions> = {}, db: DB = target.db): Promise<string> {
  const server = createServer(
    toNodeListener(createDashboard({ db, basePath: "/queues", ...options })),
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/queues/`;
}

/** A page that records every console error and uncaught exception. */
async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

const cell = (page: Page, jobType: number, status: string) =>
  page.locator(`tr[data-job-type="${jobType}"] td[data-status="${status}"]`);

/** A POST from inside the page, with the token the page holds: what a user's click sends. */
const postFromPage = (page: Page, path: string) =>
  page.evaluate(async (p) => {
    const session = await (await fetch("./api/session")).json();
    const res = await fetch(`./api/${p}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-pq-csrf": session.csrfToken },
      body: "{}",
    });
    return res.status;
  }, path);

async function until(check: () => Promise<boolean>, what: string, ms = 10_000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("dashboard in Chromium", () => {
  it("overview shows the real counts and refreshes by itself", async () => {
    const { page, errors } = await open(await serve({ jobs: DEFINITIONS }));
    await expect.poll(() => cell(page, 1, "waiting").textContent()).toBe("3");
    expect(await page.locator('tr[data-job-type="3"] td').first().textContent()).toBe("charge (3)");
    expect(await cell(page, 2, "success").textContent()).toBe("2");
    expect(await cell(page, 3, "failed").textContent()).toBe("2");
    expect(await page.locator("figure.chart canvas").count()).toBe(2);
    if (screenshots)
      await page.screenshot({ path: docs("dashboard-overview.png"), fullPage: true });
    // Paused elsewhere (by the CLI, another process): the page shows it without a reload.
    await reader.pause(1);
    await page.locator('tr[data-job-type="1"] .badge.paused').waitFor({ timeout: 10_000 });
    await reader.resume(1);
    await page.locator('tr[data-job-type="1"] .badge.paused').waitFor({ state: "detached" });
    expect(errors).toEqual([]);
  });

  it("a filter narrows the list; a job page shows its error; retry from the page changes the row", async () => {
    const { page, errors } = await open(`${await serve()}#/jobs`);
    const rows = page.locator("tr[data-job-id]");
    await expect.poll(() => rows.count()).toBe(7);
    await page.selectOption('select[name="status"]', "failed");
    await page.click('button[type="submit"]');
    await expect.poll(() => rows.count()).toBe(2);
    expect(page.url()).toContain("status=failed");
    const id = seeded.charges[0]!;
    await page.click(`tr[data-job-id="${id}"] a`);
    await expect.poll(() => page.locator("pre.last-error").textContent()).toContain(FAILURE);
    if (screenshots) await page.screenshot({ path: docs("dashboard-job.png"), fullPage: true });
    await page.click('.actions button:has-text("Retry")');
    await page.click('dialog.confirm button.danger:has-text("Retry")');
    await until(async () => (await reader.getJob(id))?.status === JobStatus.Init, "the retry");
    await expect.poll(() => page.locator("h2 .badge").textContent()).toBe("waiting");
    expect(errors).toEqual([]);
  });

  it("bulk: select rows, confirm, and each selected job is cancelled", async () => {
    const { page, errors } = await open(`${await serve()}#/jobs?type=1`);
    const [a, b] = seeded.orders;
    await page.locator(`tr[data-job-id="${a}"] input[type=checkbox]`).check();
    await page.locator(`tr[data-job-id="${b}"] input[type=checkbox]`).check();
    await page.click('.bulk button:has-text("Cancel selected")');
    // The dialog's own "Cancel" says no: nothing changes.
    await page.click('dialog.confirm button:not(.danger):has-text("Cancel")');
    expect((await reader.getJob(a!))?.status).toBe(JobStatus.Init);
    await page.click('.bulk button:has-text("Cancel selected")');
    await page.click('dialog.confirm button.danger:has-text("Cancel")');
    await until(
      async () =>
        (await reader.getJob(a!))?.status === JobStatus.Cancelled &&
        (await reader.getJob(b!))?.status === JobStatus.Cancelled,
      "the bulk cancel",
    );
    await expect.poll(() => page.locator("p.note").textContent()).toContain("2 of 2 applied");
    expect(errors).toEqual([]);
  });

  it("schedules with their next run; locks with their holder", async () => {
    const { page, errors } = await open(`${await serve()}#/schedules`);
    const schedule = page.locator("tbody tr", { hasText: "nightly-report" });
    await schedule.waitFor();
    expect(await schedule.textContent()).toMatch(/0 3 \* \* \*.*\d{4}-\d{2}-\d{2} 03:00:00/);
    await page.click('nav a:has-text("Locks")');
    const lock = page.locator("tbody tr", { hasText: "report-lock" });
    await lock.waitFor();
    expect(await lock.textContent()).toMatch(/held.*dashboard-test/);
    if (screenshots) {
      await page.click('nav a:has-text("Jobs")');
      await page.locator("tr[data-job-id]").first().waitFor();
      await page.screenshot({ path: docs("dashboard-jobs.png"), fullPage: true });
    }
    expect(errors).toEqual([]);
  });

  it("read-only hides the write buttons and refuses writes", async () => {
    const { page, errors } = await open(
      `${await serve({ readOnly: true })}#/jobs/${seeded.charges[1]}`,
    );
    await page.locator("pre.last-error").waitFor();
    expect(await page.locator(".actions button").count()).toBe(0);
    expect(await page.locator("header .badge").textContent()).toBe("read-only");
    expect(await postFromPage(page, `jobs/${seeded.charges[1]}/retry`)).toBe(403);
    expect((await reader.getJob(seeded.charges[1]!))?.status).toBe(JobStatus.Failed);
    // 403 of our own fetch is logged by Chromium as a failed resource: expected here.
    expect(errors.filter((e) => !e.includes("403"))).toEqual([]);
  });

  it("authorize decides per action: retry refused, remove allowed", async () => {
    const base = await serve({ authorize: (_request, action) => action !== "retry" });
    const { page, errors } = await open(`${base}#/jobs/${seeded.charges[1]}`);
    await page.locator("pre.last-error").waitFor();
    const buttons = await page.locator(".actions button").allTextContents();
    expect(buttons).not.toContain("Retry");
    expect(buttons).toContain("Remove");
    expect(await postFromPage(page, `jobs/${seeded.charges[1]}/retry`)).toBe(403);
    expect((await reader.getJob(seeded.charges[1]!))?.status).toBe(JobStatus.Failed);
    expect(errors.filter((e) => !e.includes("403"))).toEqual([]);
  });
});

describe("dashboard in Chromium on MariaDB", () => {
  let maria: TestDatabase;
  let mariaSeeded: Seeded;
  let mariaReader: PersistentQueue;
  beforeAll(async () => {
    maria = await openMariadb(inject("pqMysqlUrl"));
    mariaSeeded = await seed(maria.db);
    mariaReader = new PersistentQueue({ db: maria.db, serviceName: "reader", jobs: [] });
  });
  afterAll(() => maria?.close());

  it("the overview's counts, a filter, a job's error and a retry from its page", async () => {
    const base = await serve({}, maria.db);
    const { page, errors } = await open(base);
    await expect.poll(() => cell(page, 1, "waiting").textContent()).toBe("3");
    expect(await cell(page, 3, "failed").textContent()).toBe("2");
    await page.click('tr[data-job-type="3"] td[data-status="failed"] a');
    const rows = page.locator("tr[data-job-id]");
    await expect.poll(() => rows.count()).toBe(2);
    const id = mariaSeeded.charges[1]!;
    await page.click(`tr[data-job-id="${id}"] a`);
    await expect.poll(() => page.locator("pre.last-error").textContent()).toContain(FAILURE);
    await page.click('.actions button:has-text("Retry")');
    await page.click('dialog.confirm button.danger:has-text("Retry")');
    await until(async () => (await mariaReader.getJob(id))?.status === JobStatus.Init, "the retry");
    expect(errors).toEqual([]);
  });
});
