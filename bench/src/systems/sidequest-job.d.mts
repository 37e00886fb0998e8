/** Types of sidequest-job.mjs, the job class sidequest's worker threads import by path. */
import { Job } from "sidequest";

/** The environment variable that carries the reporting server's port into sidequest's workers. */
export declare const PORT_ENV: string;

export declare class BenchJob extends Job {
  run(n: number): Promise<void>;
}
