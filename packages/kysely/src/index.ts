export {
  type FromKyselyOptions,
  fromKysely,
  type KyselyHandle,
  type KyselyPgPool,
} from "./kysely.js";
export type {
  MysqlQueueTables,
  PostgresQueueTables,
  QueueBigint,
  QueueJobColumns,
  QueueJobGroupTable,
  QueueJobMysqlColumns,
  QueueJobStartTable,
  QueueJobStatTable,
  QueueJobTable,
  QueueJobTypeTable,
  QueueLockTable,
  QueueScheduleTable,
  QueueTableNames,
  QueueTables,
  QueueTime,
  SqliteQueueTables,
} from "./schema.js";
