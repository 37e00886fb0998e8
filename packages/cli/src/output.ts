import { JOB_STATUS_NAMES, JobStatus } from "@persistent-queue/core";
import picocolors from "picocolors";

/** Where a command writes, and whether it may colour it. */
export interface Io {
  /** Writes to standard output (results). */
  out(text: string): void;
  /** Writes to standard error (errors, warnings). */
  err(text: string): void;
  /** Colours for standard output; all no-ops when colour is off. */
  readonly color: Colors;
  /** Colours for standard error. */
  readonly errColor: Colors;
}

/** The colour functions the command uses (picocolors' shape). */
export type Colors = ReturnType<typeof picocolors.createColors>;

/** A writable stream as far as colour is concerned. */
interface Stream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/**
 * Colour on a stream: off when `NO_COLOR` is set (to anything but ""), with
 * `--no-color`, or when the stream is not a terminal (a pipe, a file) or
 * `TERM=dumb`; `FORCE_COLOR` (not "0") turns it on anyway.
 */
export function colorEnabled(
  stream: Stream,
  env: NodeJS.ProcessEnv,
  flag: boolean | undefined,
): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return stream.isTTY === true && env.TERM !== "dumb";
}

/** The process's standard streams, with colour decided per stream. */
export function processIo(noColorFlag?: boolean): Io {
  const flag = noColorFlag ? false : undefined;
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    color: picocolors.createColors(colorEnabled(process.stdout, process.env, flag)),
    errColor: picocolors.createColors(colorEnabled(process.stderr, process.env, flag)),
  };
}

/** Prints `value` as indented JSON with a final newline: the `--json` output. */
export function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** A cell and how to colour it once padded (colour codes must not count toward the width). */
export type Cell = string | { readonly text: string; readonly style?: (s: string) => string };

/** Longest cell text before it is cut with "…". */
const MAX_CELL = 60;

const cellText = (c: Cell) => {
  const text = (typeof c === "string" ? c : c.text).replace(/\s+/g, " ");
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
};

/**
 * A plain text table: a bold header row, columns padded to their widest
 * cell, numbers (`align` "right") right-aligned, long cells cut.
 */
export function renderTable(
  io: Io,
  headers: readonly string[],
  rows: readonly (readonly Cell[])[],
  align: readonly ("left" | "right")[] = [],
): string {
  const texts = rows.map((r) => r.map(cellText));
  const widths = headers.map((h, i) => Math.max(h.length, ...texts.map((r) => r[i]?.length ?? 0)));
  const pad = (text: string, i: number) =>
    align[i] === "right" ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const line = (cells: string[]) => cells.join("  ").trimEnd();
  const out = [line(headers.map((h, i) => io.color.bold(pad(h, i))))];
  rows.forEach((row, r) => {
    out.push(
      line(
        row.map((cell, i) => {
          const padded = pad(texts[r]![i]!, i);
          return typeof cell === "string" || !cell.style ? padded : cell.style(padded);
        }),
      ),
    );
  });
  return `${out.join("\n")}\n`;
}

/** Lower-case status names, as `--status` takes them and `--json` writes them (core's). */
export const STATUS_NAMES: Readonly<Record<number, string>> = JOB_STATUS_NAMES;

/** A status code's name ("status 9" for a code persistent-queue does not know). */
export const statusName = (status: number): string => STATUS_NAMES[status] ?? `status ${status}`;

/** A status as a coloured cell: green success, red failed, yellow running, dim cancelled. */
export function statusCell(io: Io, status: number): Cell {
  const style =
    status === JobStatus.Success
      ? io.color.green
      : status === JobStatus.Failed
        ? io.color.red
        : status === JobStatus.Running
          ? io.color.yellow
          : status === JobStatus.Cancelled
            ? io.color.dim
            : undefined;
  return { text: statusName(status), style };
}

/** Unix ms (or 0) as an ISO time without milliseconds, "-" for 0. */
export const time = (ms: number | undefined): string =>
  ms ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z") : "-";
