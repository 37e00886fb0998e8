export {
  type FromKyselyOptions,
  fromKysely,
  type KyselyHandle,
  type KyselyPgPool,
} from "./kysely.js";
