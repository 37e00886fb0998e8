export {
  type FromMysql2Options,
  fromMysql2,
  type Mysql2Connection,
  type Mysql2Pool,
  type Mysql2Queryable,
} from "./mysql2.js";
