import { useState } from "preact/hooks";
import { api, type Session } from "./api.js";
import { ThroughputChart } from "./chart.js";
import { Confirm } from "./confirm.js";
import { age, STATUS, STATUS_PARAM, typeLabel } from "./format.js";
import { navigate, usePoll } from "./hooks.js";

const COLUMNS = [0, 3, 4, 5, 1, 2, 6];

export function OverviewPage(props: { session: Session; notify: (text: string) => void }) {
  const { data, error, reload } = usePoll(api.overview, "overview");
  const [ask, setAsk] = useState<{ jobType: number; pause: boolean }>();
  const { session } = props;

  if (!data) return <p class="muted">{error ?? "Loading…"}</p>;

  const types = new Map<number, Map<number, number>>();
  const row = (t: number) => {
    const r = types.get(t) ?? new Map<number, number>();
    types.set(t, r);
    return r;
  };
  for (const c of data.counts) row(c.jobType).set(c.status, c.count);
  for (const t of data.paused) row(t);
  for (const o of data.oldestWaiting) row(o.jobType);
  const oldest = new Map(data.oldestWaiting.map((o) => [o.jobType, o.ageSeconds]));
  const sorted = [...types.keys()].sort((a, b) => a - b);

  const toggle = async (jobType: number, pause: boolean) => {
    setAsk(undefined);
    try {
      await api.setPaused(jobType, pause);
      props.notify(`Job type ${typeLabel(jobType)} ${pause ? "paused" : "resumed"}.`);
    } catch (e) {
      props.notify(e instanceof Error ? e.message : String(e));
    }
    reload();
  };

  const { perMinute, perHour } = data.throughput;
  return (
    <section>
      <h2>Overview</h2>
      {error && <p class="error">{error}</p>}
      <table class="counts">
        <thead>
          <tr>
            <th>Job type</th>
            {COLUMNS.map((s) => (
              <th key={s} class="num">
                {STATUS[s]}
              </th>
            ))}
            <th class="num">Oldest waiting</th>
            <th>State</th>
          </tr>
        </thead>
        <tbody>
          {sorted.length === 0 && (
            <tr>
              <td colSpan={COLUMNS.length + 3} class="muted">
                No jobs yet.
              </td>
            </tr>
          )}
          {sorted.map((t) => {
            const counts = types.get(t)!;
            const paused = data.paused.includes(t);
            const may = paused ? session.can.resume : session.can.pause;
            return (
              <tr key={t} data-job-type={t}>
                <td>
                  <a href={`#/jobs?type=${t}`}>{typeLabel(t)}</a>
                </td>
                {COLUMNS.map((s) => (
                  <td key={s} class={`num status-${STATUS[s]}`} data-status={STATUS[s]}>
                    {counts.get(s) ? (
                      <a href={`#/jobs?type=${t}&status=${STATUS_PARAM[s]}`}>{counts.get(s)}</a>
                    ) : (
                      <span class="muted">0</span>
                    )}
                  </td>
                ))}
                <td class="num">{oldest.has(t) ? age(oldest.get(t)!) : "—"}</td>
                <td>
                  {paused ? (
                    <span class="badge paused">paused</span>
                  ) : (
                    <span class="muted">active</span>
                  )}{" "}
                  {may && (
                    <button
                      type="button"
                      class="small"
                      onClick={() => setAsk({ jobType: t, pause: !paused })}
                    >
                      {paused ? "Resume" : "Pause"}
                    </button>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div class="charts">
        <ThroughputChart
          title="Finished per minute, last hour (UTC)"
          buckets={perMinute.buckets}
          bucketSeconds={perMinute.bucketSeconds}
          windowSeconds={perMinute.windowSeconds}
        />
        <ThroughputChart
          title="Finished per hour, last day (UTC)"
          buckets={perHour.buckets}
          bucketSeconds={perHour.bucketSeconds}
          windowSeconds={perHour.windowSeconds}
        />
      </div>
      <p>
        <button type="button" class="link" onClick={() => navigate("/jobs", { status: "failed" })}>
          See failed jobs →
        </button>
      </p>
      {ask && (
        <Confirm
          title={`${ask.pause ? "Pause" : "Resume"} job type ${typeLabel(ask.jobType)}?`}
          confirmLabel={ask.pause ? "Pause" : "Resume"}
          onConfirm={() => toggle(ask.jobType, ask.pause)}
          onCancel={() => setAsk(undefined)}
        >
          {ask.pause
            ? "No process will claim its jobs until it is resumed; running jobs finish."
            : "Workers claim its jobs again."}
        </Confirm>
      )}
    </section>
  );
}
