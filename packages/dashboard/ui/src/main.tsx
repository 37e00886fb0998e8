import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, type Session } from "./api.js";
import { useRoute } from "./hooks.js";
import { JobPage } from "./job.js";
import { JobsPage } from "./jobs.js";
import { OverviewPage } from "./overview.js";
import "./style.css";
import { LocksPage, SchedulesPage } from "./tables.js";

function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session>();
  const [failure, setFailure] = useState<string>();
  const [note, setNote] = useState<string>();

  useEffect(() => {
    api
      .session()
      .then(setSession, (e: unknown) => setFailure(e instanceof Error ? e.message : String(e)));
  }, []);
  useEffect(() => {
    if (!note) return;
    const t = setTimeout(() => setNote(undefined), 6000);
    return () => clearTimeout(t);
  }, [note]);

  const nav = [
    ["/", "Overview"],
    ["/jobs", "Jobs"],
    ["/schedules", "Schedules"],
    ["/locks", "Locks"],
  ] as const;
  const top = route.path === "/" ? "/" : `/${route.path.split("/")[1]}`;
  const jobId = /^\/jobs\/(\d+)$/.exec(route.path)?.[1];

  let page = <p class="muted">{failure ?? "Loading…"}</p>;
  if (session) {
    if (jobId) page = <JobPage id={Number(jobId)} session={session} notify={setNote} />;
    else if (route.path === "/jobs")
      page = <JobsPage route={route} session={session} notify={setNote} />;
    else if (route.path === "/schedules") page = <SchedulesPage />;
    else if (route.path === "/locks") page = <LocksPage />;
    else page = <OverviewPage session={session} notify={setNote} />;
  }
  return (
    <>
      <header>
        <h1>persistent-queue</h1>
        <nav>
          {nav.map(([path, label]) => (
            <a key={path} href={`#${path}`} class={top === path ? "current" : ""}>
              {label}
            </a>
          ))}
        </nav>
        {session?.readOnly && <span class="badge">read-only</span>}
      </header>
      {note && (
        <p class="note" role="status">
          {note}
        </p>
      )}
      <main>{page}</main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
