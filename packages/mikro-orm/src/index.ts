export {
  fromMikroORM,
  type KyselyExecutor,
  type KyselyQueryResult,
  type MikroORMConnection,
  type MikroORMEntityManager,
} from "./mikro-orm.js";
