export {
  type BetterSqlite3Database,
  type FromBetterSqlite3Options,
  fromBetterSqlite3,
} from "./better-sqlite3.js";
