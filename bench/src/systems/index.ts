/** Every system under test, by id (the child process of scenario B looks them up here). */
import { bullmq, bullmqPostgres } from "./bullmq.js";
import { commitLimits } from "./commit-limit.js";
import { graphile } from "./graphile.js";
import { newestPeers } from "./newest.js";
import { ours } from "./ours.js";
import { pgboss } from "./pgboss.js";
import { sidequestPeers } from "./sidequest.js";
import type { SystemInfo } from "./types.js";

export const allSystems: SystemInfo[] = [
  ...ours,
  graphile,
  pgboss,
  bullmq,
  bullmqPostgres,
  ...newestPeers,
  ...sidequestPeers,
  ...commitLimits,
];

export function systemById(id: string): SystemInfo {
  const s = allSystems.find((x) => x.id === id);
  if (!s) throw new Error(`unknown system ${id}`);
  return s;
}
