export {
  type BetterSqlite3Database,
  type BetterSqlite3Settings,
  betterSqlite3Db,
  type FromBetterSqlite3Options,
  fromBetterSqlite3,
  runStatement,
  type Statement,
} from "./better-sqlite3.js";
