export {
  fromPGlite,
  type PGliteDatabase,
  type PGliteResult,
  type PGliteTransaction,
} from "./pglite.js";
