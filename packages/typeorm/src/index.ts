export {
  type AsyncJobRow,
  createQueueEntitySchemas,
  type EntitySchemaClass,
  type JobGroupRow,
  type JobStartRow,
  type JobStatRow,
  type JobTypeRow,
  PersistentQueueSchema1764000000000,
  type QueueEntitySchemas,
  type QueueSchemaTarget,
  type ScheduleRow,
  type ShedLockRow,
} from "./schema.js";
export { fromTypeORM } from "./typeorm.js";
export type {
  FromTypeORMOptions,
  TypeORMDataSource,
  TypeORMEntityManager,
  TypeORMQueryResult,
  TypeORMQueryRunner,
} from "./types.js";
