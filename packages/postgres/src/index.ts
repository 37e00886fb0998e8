export {
  type FromPostgresJsOptions,
  fromPostgresJs,
  type PostgresJsHandle,
  type PostgresJsResult,
  type PostgresJsSql,
} from "./postgres.js";
