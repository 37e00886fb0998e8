export { type DrizzleHandle, type FromDrizzleOptions, fromDrizzle } from "./drizzle.js";
export {
  type DrizzleQueueTableNames,
  mysqlQueueTables,
  pgQueueTables,
  sqliteQueueTables,
} from "./schema.js";
