/**
 * The bench's sidequest job. Sidequest imports this file by path inside a worker
 * thread of its forked engine process, so run() cannot call the bench's handler:
 * it reports the payload's `n` over a loopback TCP connection to the server the
 * system under test opens in start() (its port in PQ_BENCH_SIDEQUEST_PORT, set
 * before sidequest forks; the fork and its threads inherit the environment).
 * Plain JavaScript: worker threads import it without the bench's TypeScript loader.
 */
import { createConnection } from "node:net";
import { Job } from "sidequest";

export const PORT_ENV = "PQ_BENCH_SIDEQUEST_PORT";

/** One connection per worker thread (each thread has its own copy of this module), opened on first use. */
let connection;

function connect() {
  if (connection) return connection;
  const attempt = new Promise((resolve, reject) => {
    const port = Number(process.env[PORT_ENV]);
    if (!Number.isInteger(port) || port <= 0) {
      reject(new Error(`${PORT_ENV} is not set in the sidequest worker`));
      return;
    }
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.setNoDelay(true);
    socket.unref(); // never keep a worker thread alive on its own
    const forget = () => {
      if (connection === attempt) connection = undefined; // the next run reconnects
    };
    socket.once("connect", () => resolve(socket));
    socket.on("error", (error) => {
      forget();
      reject(error);
    });
    socket.on("close", forget);
  });
  connection = attempt;
  return attempt;
}

export class BenchJob extends Job {
  /** Reports `n` once; resolves when the line is handed to the kernel, so a finished run has reported. */
  async run(n) {
    const socket = await connect();
    await new Promise((resolve, reject) => {
      socket.write(`${n}\n`, (error) => (error ? reject(error) : resolve()));
    });
  }
}
