/**
 * The second process of scenario B: opens the same database as the parent,
 * runs workers on "go", and reports how many jobs it handled (coalesced to one
 * message per 5 ms, so IPC does not cost a message per job).
 */
import { systemById } from "./systems/index.js";

interface Spec {
  system: string;
  target: Parameters<ReturnType<typeof systemById>["make"]>[0];
  concurrency: number;
}

const spec = JSON.parse(process.argv[2] ?? "{}") as Spec;
const sut = systemById(spec.system).make(spec.target);
let handled = 0;
let reported = 0;
let scheduled = false;
const send = (msg: unknown) => process.send?.(msg);

function report(): void {
  scheduled = false;
  if (handled === reported) return;
  reported = handled;
  send({ handled });
}

process.on("message", async (msg: { cmd: string }) => {
  if (msg.cmd === "go") {
    await sut.start(spec.concurrency, () => {
      handled++;
      if (!scheduled) {
        scheduled = true;
        setTimeout(report, 5);
      }
    });
  } else if (msg.cmd === "stop") {
    await sut.teardown();
    report();
    process.disconnect?.();
    process.exit(0);
  }
});

await sut.setup();
send({ ready: true });
