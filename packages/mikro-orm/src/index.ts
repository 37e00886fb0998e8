export {
  fromMikroORM,
  type KyselyExecutor,
  type KyselyQueryResult,
  type MikroORMConnection,
  type MikroORMEntityManager,
} from "./mikro-orm.js";
export {
  type AsyncJobRow,
  type BigIntColumn,
  createQueueEntitySchemas,
  type EntitySchemaClass,
  type JobGroupRow,
  type JobStartRow,
  type JobStatRow,
  type JobTypeRow,
  type QueueEntityMeta,
  type QueueEntitySchemas,
  type ScheduleRow,
  type ShedLockRow,
} from "./schema.js";
