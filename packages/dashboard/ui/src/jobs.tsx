import { useState } from "preact/hooks";
import { type ActionResult, api, type JobAction, type Session } from "./api.js";
import { Confirm } from "./confirm.js";
import { STATUS, STATUS_PARAM, short, statusName, time, typeLabel } from "./format.js";
import { navigate, type Route, usePoll } from "./hooks.js";

const FILTERS = [
  "type",
  "status",
  "search",
  "createdFrom",
  "createdTo",
  "updatedFrom",
  "updatedTo",
] as const;
const ACTIONS: JobAction[] = ["retry", "cancel", "promote", "remove"];

/** "2026-11-29T10:00:00Z" → the datetime-local input's "2026-11-29T10:00" (UTC). */
const toInput = (iso: string | null) => (iso ? iso.replace(/Z$/, "").slice(0, 16) : "");
const fromInput = (value: string) => (value ? `${value}:00Z` : undefined);

export function JobsPage(props: {
  route: Route;
  session: Session;
  notify: (text: string) => void;
}) {
  const { query } = props.route;
  const apiQuery = new URLSearchParams();
  for (const k of [...FILTERS, "cursor"]) {
    const v = query.get(k);
    if (v) apiQuery.set(k, v);
  }
  const key = apiQuery.toString();
  const { data, error, reload } = usePoll(() => api.jobs(key), key);
  const [selected, setSelected] = useState<Set<number>>(new Set());
  const [ask, setAsk] = useState<JobAction>();
  const [results, setResults] = useState<ActionResult[]>();
  const can = ACTIONS.filter((a) => props.session.can[a]);

  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const get = (k: string) => String(form.get(k) ?? "").trim() || undefined;
    setSelected(new Set());
    navigate("/jobs", {
      type: get("type"),
      status: get("status"),
      search: get("search"),
      createdFrom: fromInput(get("createdFrom") ?? ""),
      createdTo: fromInput(get("createdTo") ?? ""),
      updatedFrom: fromInput(get("updatedFrom") ?? ""),
      updatedTo: fromInput(get("updatedTo") ?? ""),
    });
  };

  const page = (cursor: string | undefined) => {
    const q: Record<string, string | undefined> = {};
    for (const k of FILTERS) q[k] = query.get(k) ?? undefined;
    q.cursor = cursor;
    setSelected(new Set());
    navigate("/jobs", q);
  };

  const run = async (action: JobAction) => {
    setAsk(undefined);
    try {
      const out = await api.bulk(action, [...selected]);
      setResults(out.results);
      const applied = out.results.filter((r) => r.outcome === "applied").length;
      props.notify(`${action}: ${applied} of ${out.results.length} applied.`);
      setSelected(new Set());
    } catch (e) {
      props.notify(e instanceof Error ? e.message : String(e));
    }
    reload();
  };

  const jobs = data?.jobs ?? [];
  const allOnPage = jobs.length > 0 && jobs.every((j) => selected.has(j.id));
  const toggle = (id: number) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };

  return (
    <section>
      <h2>Jobs</h2>
      <form class="filters" onSubmit={submit}>
        <label>
          Type{" "}
          <input
            name="type"
            size={10}
            placeholder="integer or name"
            value={query.get("type") ?? ""}
          />
        </label>
        <label>
          Status{" "}
          <select name="status" value={query.get("status") ?? ""}>
            <option value="">any</option>
            {Object.keys(STATUS).map((s) => (
              <option key={s} value={STATUS_PARAM[Number(s)]}>
                {STATUS[Number(s)]}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search params{" "}
          <input name="search" value={query.get("search") ?? ""} placeholder='"orderId":42' />
        </label>
        <label>
          Created from (UTC){" "}
          <input
            type="datetime-local"
            name="createdFrom"
            value={toInput(query.get("createdFrom"))}
          />
        </label>
        <label>
          to{" "}
          <input type="datetime-local" name="createdTo" value={toInput(query.get("createdTo"))} />
        </label>
        <label>
          Updated from (UTC){" "}
          <input
            type="datetime-local"
            name="updatedFrom"
            value={toInput(query.get("updatedFrom"))}
          />
        </label>
        <label>
          to{" "}
          <input type="datetime-local" name="updatedTo" value={toInput(query.get("updatedTo"))} />
        </label>
        <button type="submit">Filter</button>{" "}
        <button type="button" class="link" onClick={() => navigate("/jobs")}>
          Clear
        </button>
      </form>
      {error && <p class="error">{error}</p>}
      {can.length > 0 && (
        <p class="bulk">
          {selected.size} selected{" "}
          {can.map((a) => (
            <button key={a} type="button" disabled={selected.size === 0} onClick={() => setAsk(a)}>
              {a[0]!.toUpperCase() + a.slice(1)} selected
            </button>
          ))}
        </p>
      )}
      {results && (
        <ul class="results">
          {results
            .filter((r) => r.outcome !== "applied")
            .map((r) => (
              <li key={r.id}>
                #{r.id}: {r.outcome} — {r.message}
              </li>
            ))}
        </ul>
      )}
      <table class="jobs">
        <thead>
          <tr>
            {can.length > 0 && (
              <th>
                <input
                  type="checkbox"
                  aria-label="select all on this page"
                  checked={allOnPage}
                  onChange={() =>
                    setSelected(allOnPage ? new Set() : new Set(jobs.map((j) => j.id)))
                  }
                />
              </th>
            )}
            <th>Id</th>
            <th>Type</th>
            <th>Status</th>
            <th class="num">Attempts</th>
            <th>Created (UTC)</th>
            <th>Updated (UTC)</th>
            <th>Params</th>
            <th>Last error</th>
          </tr>
        </thead>
        <tbody>
          {data && jobs.length === 0 && (
            <tr>
              <td colSpan={9} class="muted">
                No job matches.
              </td>
            </tr>
          )}
          {jobs.map((j) => (
            <tr key={j.id} data-job-id={j.id}>
              {can.length > 0 && (
                <td>
                  <input
                    type="checkbox"
                    aria-label={`select job ${j.id}`}
                    checked={selected.has(j.id)}
                    onChange={() => toggle(j.id)}
                  />
                </td>
              )}
              <td>
                <a href={`#/jobs/${j.id}`}>{j.id}</a>
              </td>
              <td>{typeLabel(j.jobType)}</td>
              <td>
                <span class={`badge status-${statusName(j.status)}`}>{statusName(j.status)}</span>
              </td>
              <td class="num">{j.attempts}</td>
              <td>{time(j.createTime)}</td>
              <td>{time(j.updateTime)}</td>
              <td class="mono">{short(j.rawParams, 60)}</td>
              <td class="error-text">{short(j.lastError, 60)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data?.scannedDownTo !== undefined && (
        <p class="scan-note">
          {data.jobs.length === 0 ? "No match" : "These are the matches"} among jobs down to #
          {data.scannedDownTo}; older jobs are searched on the next page.
        </p>
      )}
      <p class="pager">
        <button type="button" disabled={!query.get("cursor")} onClick={() => page(undefined)}>
          ← Newest
        </button>{" "}
        <button type="button" disabled={!data?.nextCursor} onClick={() => page(data?.nextCursor)}>
          Older →
        </button>
      </p>
      {ask && (
        <Confirm
          title={`${ask[0]!.toUpperCase() + ask.slice(1)} ${selected.size} job${selected.size === 1 ? "" : "s"}?`}
          confirmLabel={ask[0]!.toUpperCase() + ask.slice(1)}
          onConfirm={() => run(ask)}
          onCancel={() => setAsk(undefined)}
        >
          Jobs {[...selected].slice(0, 20).join(", ")}
          {selected.size > 20 ? ", …" : ""}. Jobs the action does not apply to are left as they are.
        </Confirm>
      )}
    </section>
  );
}
