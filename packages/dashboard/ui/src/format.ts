/** Status names by code, as the seed and JobStatus name them. */
export const STATUS: Record<number, string> = {
  0: "waiting",
  1: "success",
  2: "failed",
  3: "continue",
  4: "retry",
  5: "running",
  6: "cancelled",
};

/** The API's names for the status filter, by code. */
export const STATUS_PARAM: Record<number, string> = {
  0: "init",
  1: "success",
  2: "failed",
  3: "continue",
  4: "retry",
  5: "running",
  6: "cancelled",
};

export const statusName = (code: number) => STATUS[code] ?? `status ${code}`;

/** Job type names by integer, from the session (the definitions the dashboard was given). */
const typeNames = new Map<number, string>();

export function setTypeNames(types: readonly { jobType: number; name: string }[]): void {
  typeNames.clear();
  for (const t of types) typeNames.set(t.jobType, t.name);
}

/** "send-mail (3)" when the type has a name, else "3". */
export const typeLabel = (jobType: number) => {
  const name = typeNames.get(jobType);
  return name === undefined ? String(jobType) : `${name} (${jobType})`;
};

/** Unix seconds (or ms with `ms`) as "2026-11-29 10:13:34" in UTC; "—" for 0. */
export function time(value: number, ms = false): string {
  if (!value) return "—";
  const d = new Date(ms ? value : value * 1000);
  return Number.isNaN(d.getTime()) ? String(value) : d.toISOString().slice(0, 19).replace("T", " ");
}

/** An ISO string as `time()` shows it. */
export const isoTime = (iso: string | undefined) =>
  iso ? time(new Date(iso).getTime(), true) : "—";

/** Seconds as "42s", "5m 3s", "2h 10m", "3d 4h". */
export function age(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** JSON for display: indented, or "—" when absent. */
export const pretty = (value: unknown) =>
  value === undefined ? "—" : JSON.stringify(value, null, 2);

/** One line of at most `n` characters. */
export function short(text: string | null | undefined, n = 80): string {
  if (!text) return "";
  const line = text.replace(/\s+/g, " ");
  return line.length > n ? `${line.slice(0, n - 1)}…` : line;
}
