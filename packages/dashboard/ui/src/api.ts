// The browser's side of the JSON API: every URL relative to the page, so the
// dashboard works under any basePath.

import { setTypeNames } from "./format.js";

export type WriteAction = "retry" | "cancel" | "promote" | "remove" | "pause" | "resume";
export type JobAction = "retry" | "cancel" | "promote" | "remove";

export interface Session {
  csrfToken: string;
  readOnly: boolean;
  can: Record<WriteAction, boolean>;
  /** Names of the job types the dashboard was given definitions of. */
  types?: { jobType: number; name: string }[];
}

export interface JobCount {
  jobType: number;
  status: number;
  count: number;
}

export interface Bucket {
  jobType: number;
  status: number;
  bucket: number;
  count: number;
}

export interface Overview {
  counts: JobCount[];
  paused: number[];
  oldestWaiting: { jobType: number; createTime: number; ageSeconds: number }[];
  throughput: {
    perMinute: { bucketSeconds: number; windowSeconds: number; buckets: Bucket[] };
    perHour: { bucketSeconds: number; windowSeconds: number; buckets: Bucket[] };
  };
}

export interface Job {
  id: number;
  jobType: number;
  status: number;
  params: unknown;
  rawParams: string;
  attempts: number;
  startTime: number;
  runAt: number;
  createTime: number;
  updateTime: number;
  leaseUntil: number;
  workerId: string | null;
  lastError: string | null;
  priority: number;
  uniqueKey: string | null;
  group: string | null;
  result: unknown;
  progress: unknown;
}

export interface JobPage {
  jobs: Job[];
  nextCursor?: string;
  /** Set when the page's scan stopped at its bound: older jobs were not looked at yet. */
  scannedDownTo?: number;
}

export interface ActionResult {
  id: number;
  outcome: "applied" | "skipped" | "not-found" | "running" | "conflict";
  message?: string;
}

export interface ScheduleInfo {
  name: string;
  cron: string;
  tz: string;
  jobType: number;
  params: unknown;
  priority: number;
  nextRun?: string;
  lastRun?: string;
  source: string;
  updatedAt: string;
}

export interface LockInfo {
  name: string;
  lockedBy: string;
  lockedAt: string;
  lockUntil: string;
  held: boolean;
}

/** An API error: `{ error: { code, message, field? } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = "";

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(`./api/${path}`, { credentials: "same-origin", ...init });
  const body = (await response.json().catch(() => ({}))) as {
    error?: { code: string; message: string };
  };
  if (body.error && (!response.ok || response.status >= 400))
    throw new ApiError(response.status, body.error.code, body.error.message);
  if (!response.ok) throw new ApiError(response.status, "HTTP", response.statusText);
  return body as T;
}

const post = <T>(path: string, body?: unknown) =>
  call<T>(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-pq-csrf": csrfToken },
    body: JSON.stringify(body ?? {}),
  });

export const api = {
  async session(): Promise<Session> {
    const s = await call<Session>("session");
    csrfToken = s.csrfToken;
    setTypeNames(s.types ?? []);
    return s;
  },
  overview: () => call<Overview>("overview"),
  jobs: (query: string) => call<JobPage>(`jobs${query ? `?${query}` : ""}`),
  job: (id: number) => call<Job>(`jobs/${id}`),
  act: (action: JobAction, id: number) =>
    post<ActionResult & { action: JobAction }>(`jobs/${id}/${action}`),
  bulk: (action: JobAction, ids: number[]) =>
    post<{ action: JobAction; results: ActionResult[] }>("jobs/bulk", { action, ids }),
  setPaused: (jobType: number, paused: boolean) =>
    post<{ jobType: number; paused: boolean }>(`types/${jobType}/${paused ? "pause" : "resume"}`),
  schedules: () => call<{ schedules: ScheduleInfo[] }>("schedules"),
  locks: () => call<{ locks: LockInfo[] }>("locks"),
};
