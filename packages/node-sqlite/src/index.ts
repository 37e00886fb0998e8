export {
  type FromNodeSqliteOptions,
  fromNodeSqlite,
  type NodeSqliteDatabase,
  type NodeSqliteStatement,
} from "./node-sqlite.js";
