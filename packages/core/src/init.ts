import type { DB } from "./db.js";
import type { AnyJob, AnyJobConfig } from "./job.js";
import type { Logger } from "./logger.js";
import { PersistentQueue } from "./queue.js";

/** A job config as the seed's `Init` took it: with its own db and serviceName. */
export type InitJobConfig = AnyJobConfig & { readonly db: DB; readonly serviceName: string };

/**
 * The seed's `Init(configs, logger)`: migrates and starts one queue per
 * (db, serviceName) among the configs and resolves them (stop them with
 * `Promise.all(queues.map(q => q.stop()))`). If one fails to migrate or
 * start, the queues already started are stopped before the error is thrown:
 * nothing is left running behind a failed call.
 */
export async function init(
  configs: readonly InitJobConfig[],
  logger?: Logger,
): Promise<PersistentQueue[]> {
  const groups = new Map<DB, Map<string, AnyJobConfig[]>>();
  for (const config of configs) {
    const byService = groups.get(config.db) ?? new Map<string, AnyJobConfig[]>();
    groups.set(config.db, byService);
    byService.set(config.serviceName, [...(byService.get(config.serviceName) ?? []), config]);
  }
  const queues: PersistentQueue[] = [];
  try {
    for (const [db, byService] of groups) {
      for (const [serviceName, jobs] of byService) {
        const queue: PersistentQueue = new PersistentQueue<readonly AnyJob[]>({
          db,
          serviceName,
          jobs,
          ...(logger ? { logger } : {}),
        });
        queues.push(queue);
        await queue.migrate();
        await queue.start();
      }
    }
  } catch (error) {
    await Promise.all(queues.map((q) => q.stop({ timeoutMs: 5000 }).catch(() => undefined)));
    throw error;
  }
  return queues;
}
