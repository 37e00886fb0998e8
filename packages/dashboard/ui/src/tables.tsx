import { api } from "./api.js";
import { isoTime, typeLabel } from "./format.js";
import { usePoll } from "./hooks.js";

export function SchedulesPage() {
  const { data, error } = usePoll(api.schedules, "schedules");
  return (
    <section>
      <h2>Schedules</h2>
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Cron</th>
            <th>Time zone</th>
            <th>Job type</th>
            <th>Next run (UTC)</th>
            <th>Last run (UTC)</th>
            <th>Params</th>
            <th>Source</th>
          </tr>
        </thead>
        <tbody>
          {data?.schedules.length === 0 && (
            <tr>
              <td colSpan={8} class="muted">
                No schedules.
              </td>
            </tr>
          )}
          {data?.schedules.map((s) => (
            <tr key={s.name}>
              <td>{s.name}</td>
              <td class="mono">{s.cron}</td>
              <td>{s.tz}</td>
              <td>
                <a href={`#/jobs?type=${s.jobType}`}>{typeLabel(s.jobType)}</a>
              </td>
              <td>{isoTime(s.nextRun)}</td>
              <td>{isoTime(s.lastRun)}</td>
              <td class="mono">{JSON.stringify(s.params)}</td>
              <td>{s.source}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export function LocksPage() {
  const { data, error } = usePoll(api.locks, "locks");
  return (
    <section>
      <h2>Locks (ShedLock)</h2>
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>State</th>
            <th>Locked by</th>
            <th>Locked at (UTC)</th>
            <th>Until (UTC)</th>
          </tr>
        </thead>
        <tbody>
          {data?.locks.length === 0 && (
            <tr>
              <td colSpan={5} class="muted">
                No locks.
              </td>
            </tr>
          )}
          {data?.locks.map((l) => (
            <tr key={l.name}>
              <td>{l.name}</td>
              <td>
                {l.held ? <span class="badge held">held</span> : <span class="muted">free</span>}
              </td>
              <td>{l.lockedBy}</td>
              <td>{isoTime(l.lockedAt)}</td>
              <td>{isoTime(l.lockUntil)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
