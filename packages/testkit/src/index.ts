// Test helpers for persistent-queue's own test suites: throwaway database
// servers, fresh databases on them, and the vitest globalSetup that wires
// them into a run (see ./global-setup.ts, referenced from vitest.config.ts).

export {
  type GaleraCluster,
  type GaleraOptions,
  startGaleraCluster,
} from "./clusters/galera.js";
export {
  type PostgresCluster,
  type PostgresClusterOptions,
  type PostgresNode,
  startPostgresCluster,
} from "./clusters/postgres.js";

export type {
  AdapterUnderTest,
  Opened,
  ServerChoice,
  Target,
  TargetKind,
} from "./conformance/context.js";
export { describeDbConformance } from "./conformance/db/index.js";
export { openFresh } from "./conformance/db/open-target.js";
export { describeEngineConformance, describeEngineScale } from "./conformance/engine/index.js";
export { usePostgres18 } from "./conformance/postgres18.js";
export { type CreatedDatabase, createDatabase, createSqliteFile } from "./databases.js";
export { describeQueueTables, generationExpressions } from "./describe-tables.js";
export { mariadbFromEnvOrStart, postgres18FromEnvOrStart, postgresFromEnvOrStart } from "./env.js";
export { cacheDir, ensureDebianBinary } from "./internal/binaries.js";
export {
  type DatabaseServer,
  type PostgresFlavour,
  type PostgresOptions,
  type ServerKind,
  startMariaDB,
  startPostgres,
} from "./servers.js";
export { expectRefused, thrown } from "./thrown.js";
