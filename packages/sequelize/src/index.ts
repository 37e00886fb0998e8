export {
  createQueueMigration,
  defineQueueModels,
  type QueueMigration,
  type QueueModels,
  type QueueTableNames,
  queueMigration,
  queueTableAttributes,
  type SequelizeLibrary,
} from "./schema.js";
export {
  type FromSequelizeOptions,
  fromSequelize,
  type SequelizeInstance,
  type SequelizeTransaction,
} from "./sequelize.js";
