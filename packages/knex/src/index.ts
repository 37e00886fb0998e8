export { type FromKnexOptions, fromKnex, type KnexHandle } from "./knex.js";
export { createQueueMigration, type QueueMigration, queueMigration } from "./migration.js";
