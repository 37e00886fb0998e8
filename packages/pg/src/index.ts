export { type FromPgOptions, fromPg, type PgClient, type PgPool } from "./pg.js";
