import { useState } from "preact/hooks";
import { api, type JobAction, type Session } from "./api.js";
import { Confirm } from "./confirm.js";
import { pretty, statusName, time, typeLabel } from "./format.js";
import { navigate, usePoll } from "./hooks.js";

const ACTIONS: JobAction[] = ["retry", "cancel", "promote", "remove"];
const title = (a: string) => a[0]!.toUpperCase() + a.slice(1);

/** Whether `action` applies to a job in `status` (the server re-checks, atomically). */
const applies = (action: JobAction, status: number) =>
  action === "retry"
    ? status === 2 || status === 6
    : action === "cancel"
      ? [0, 3, 4, 5].includes(status)
      : action === "promote"
        ? [0, 3, 4].includes(status)
        : status !== 5;

export function JobPage(props: { id: number; session: Session; notify: (text: string) => void }) {
  const { id } = props;
  const { data: job, error, reload } = usePoll(() => api.job(id), String(id));
  const [ask, setAsk] = useState<JobAction>();

  const run = async (action: JobAction) => {
    setAsk(undefined);
    try {
      const r = await api.act(action, id);
      props.notify(r.outcome === "applied" ? `${title(action)}: done.` : (r.message ?? r.outcome));
      if (action === "remove" && r.outcome === "applied") return navigate("/jobs");
    } catch (e) {
      props.notify(e instanceof Error ? e.message : String(e));
    }
    reload();
  };

  if (!job) return <p class={error ? "error" : "muted"}>{error ?? "Loading…"}</p>;
  const can = ACTIONS.filter((a) => props.session.can[a] && applies(a, job.status));
  const fields: [string, string][] = [
    ["Job type", typeLabel(job.jobType)],
    ["Status", statusName(job.status)],
    ["Attempts", String(job.attempts)],
    ["Priority", String(job.priority)],
    ["Group", job.group ?? "—"],
    ["Unique key", job.uniqueKey ?? "—"],
    ["Created (UTC)", time(job.createTime)],
    ["Updated (UTC)", time(job.updateTime)],
    ["Runs at (UTC)", time(job.runAt, true)],
    ["Worker (last to hold it)", job.workerId ?? "—"],
    ["Lease until (UTC)", time(job.leaseUntil, true)],
  ];
  return (
    <section>
      <h2>
        Job {job.id}{" "}
        <span class={`badge status-${statusName(job.status)}`}>{statusName(job.status)}</span>
      </h2>
      {error && <p class="error">{error}</p>}
      {can.length > 0 && (
        <p class="actions">
          {can.map((a) => (
            <button key={a} type="button" onClick={() => setAsk(a)}>
              {title(a)}
            </button>
          ))}
        </p>
      )}
      <dl class="fields">
        {fields.map(([k, v]) => [<dt key={`${k}t`}>{k}</dt>, <dd key={`${k}d`}>{v}</dd>])}
      </dl>
      <h3>Last error</h3>
      {job.lastError ? (
        <pre class="error last-error">{job.lastError}</pre>
      ) : (
        <p class="muted">None.</p>
      )}
      <h3>Params</h3>
      <pre class="params">{job.params === undefined ? job.rawParams : pretty(job.params)}</pre>
      <h3>Result</h3>
      <pre>{pretty(job.result)}</pre>
      <h3>Progress</h3>
      <pre>{pretty(job.progress)}</pre>
      {ask && (
        <Confirm
          title={`${title(ask)} job ${job.id}?`}
          confirmLabel={title(ask)}
          onConfirm={() => run(ask)}
          onCancel={() => setAsk(undefined)}
        >
          {ask === "remove"
            ? "The row is deleted; this cannot be undone."
            : `It is ${statusName(job.status)} now.`}
        </Confirm>
      )}
    </section>
  );
}
