export { type FromPgOptions, fromPg, type PgClient, type PgPool, type PgResult } from "./pg.js";
