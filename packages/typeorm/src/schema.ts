// TypeORM's own description of the queue's tables, and a migration class for
// TypeORM's migration runner. TypeORM is imported for types only: the caller
// passes its `EntitySchema` class, so this package never loads TypeORM itself.
import { type DialectFamily, migrate, type TableNames } from "@persistent-queue/core";
import { resolveTableNames } from "@persistent-queue/core/adapter";
import type {
  EntitySchema,
  EntitySchemaColumnOptions,
  EntitySchemaOptions,
  MigrationInterface,
  QueryRunner,
} from "typeorm";
import { fromTypeORM } from "./typeorm.js";

/** A row of the job table (`async_job_tab`) as TypeORM maps it. BIGINT columns are strings on MySQL and PostgreSQL. */
export interface AsyncJobRow {
  id: string | number;
  params: string;
  job_type: number;
  job_status: number | null;
  start_time: string | number | null;
  create_time: string | number;
  update_time: string | number;
  attempts: number;
  run_at: string | number;
  lease_token: string | null;
  lease_until: string | number;
  worker_id: string | null;
  last_error: string | null;
}

/** A row of the ShedLock table (`shedlock_tab`); lock times are Dates (text on SQLite). */
export interface ShedLockRow {
  lock_name: string;
  lock_until: Date | string;
  locked_at: Date | string;
  locked_by: string;
}

/** The database a set of entity schemas is written for: a dialect family or a DataSource `type`. */
export type QueueSchemaTarget = DialectFamily | "mariadb" | "better-sqlite3" | "aurora-mysql";

type Col = EntitySchemaColumnOptions;
/** Column types per family: the seed's MySQL types, and what core's PostgreSQL and SQLite DDL use for them. */
const TYPES = {
  mysql: {
    id: "bigint",
    text: "varchar",
    int: "int",
    status: "tinyint",
    sec: "int",
    big: "bigint",
    time: "timestamp",
  },
  postgres: {
    id: "bigint",
    text: "varchar",
    int: "integer",
    status: "smallint",
    sec: "bigint",
    big: "bigint",
    time: "timestamptz",
  },
  sqlite: {
    id: "integer",
    text: "text",
    int: "integer",
    status: "integer",
    sec: "integer",
    big: "integer",
    time: "text",
  },
} as const;

const familyOf = (target: QueueSchemaTarget): DialectFamily =>
  target === "mariadb" || target === "aurora-mysql"
    ? "mysql"
    : target === "better-sqlite3"
      ? "sqlite"
      : target;

/** TypeORM's `EntitySchema` class (`import { EntitySchema } from "typeorm"`). */
export type EntitySchemaClass = new <T>(options: EntitySchemaOptions<T>) => EntitySchema<T>;

/**
 * TypeORM `EntitySchema`s for the queue's two tables, for one database
 * family (column types differ per database, as in core's DDL). Add them to
 * your DataSource's `entities` to query the tables with repositories and to
 * let `typeorm migration:generate` know them; create the tables with
 * {@link PersistentQueueSchema1764000000000} or `queue.migrate()`.
 * No decorators, so no `experimentalDecorators`/`emitDecoratorMetadata` needed.
 *
 * Pass TypeORM's `EntitySchema` class: the schemas are built with your copy of
 * TypeORM, and this package stays free of a run-time import of it.
 */
export function createQueueEntitySchemas(
  EntitySchemaCtor: EntitySchemaClass,
  target: QueueSchemaTarget,
  tables: Partial<TableNames> = {},
): { readonly AsyncJob: EntitySchema<AsyncJobRow>; readonly ShedLock: EntitySchema<ShedLockRow> } {
  const family = familyOf(target);
  const names = resolveTableNames(tables);
  const t = TYPES[family];
  const mysql = family === "mysql";
  // EntitySchema has no display width: synchronize() makes the seed's int(11) unsigned int(10) unsigned (cosmetic).
  const unsigned: Partial<Col> = mysql ? { unsigned: true } : {};
  const varchar = (length: number): Partial<Col> => (family === "sqlite" ? {} : { length });
  // An explicit DEFAULT NULL, as core writes it; TypeORM reads `default: null` as "no default".
  const nullableText = (length: number): Col => ({
    type: t.text,
    ...varchar(length),
    nullable: true,
    ...(mysql ? { default: null } : { default: () => "NULL" }),
  });
  // PostgreSQL's own constraint names, as core's DDL gets them, instead of TypeORM's hashed "PK_…".
  const pk = (table: string): Partial<Col> =>
    family === "postgres" ? { primaryKeyConstraintName: `${table}_pkey` } : {};
  const zero = (type: Col["type"]): Col => ({ type, default: 0 });
  const now =
    family === "mysql"
      ? "CURRENT_TIMESTAMP"
      : family === "postgres"
        ? "now()"
        : "strftime('%Y-%m-%d %H:%M:%f', 'now')";
  const lockTime: Col = {
    type: t.time,
    ...(family === "postgres" ? { precision: 3 } : {}),
    default: () => now,
  };

  const AsyncJob = new EntitySchemaCtor<AsyncJobRow>({
    name: "PersistentQueueAsyncJob",
    tableName: names.jobs,
    columns: {
      id: {
        type: t.id,
        primary: true,
        ...pk(names.jobs),
        ...unsigned,
        // EntitySchema's type omits "identity", but TypeORM passes the strategy through as
        // @PrimaryGeneratedColumn("identity") does: GENERATED BY DEFAULT AS IDENTITY, as in core.
        generated: (family === "postgres" ? "identity" : "increment") as Col["generated"],
      },
      params: {
        type: t.text,
        ...varchar(4096),
        default: "",
        ...(mysql ? { collation: "utf8mb4_unicode_ci" } : {}),
      },
      job_type: { type: t.int },
      job_status: {
        type: t.status,
        nullable: true,
        default: 0,
        ...(mysql
          ? { comment: "0:init, 1:success, 2:failed, 3:continue, 4:retry, 5:running" }
          : {}),
      },
      start_time: { type: t.sec, ...unsigned, nullable: true, default: 0 },
      create_time: { type: t.sec, ...unsigned },
      update_time: { type: t.sec, ...unsigned },
      attempts: zero(t.int),
      run_at: zero(t.big),
      lease_token: nullableText(64),
      lease_until: zero(t.big),
      worker_id: nullableText(255),
      last_error: nullableText(2048),
    },
    indices: [{ name: `${names.jobs}_claim_idx`, columns: ["job_status", "job_type", "id"] }],
  });

  const ShedLock = new EntitySchemaCtor<ShedLockRow>({
    name: "PersistentQueueShedLock",
    tableName: names.locks,
    columns: {
      lock_name: {
        type: t.text,
        ...varchar(64),
        primary: true,
        ...pk(names.locks),
        ...(mysql ? { comment: "lock key" } : {}),
      },
      lock_until: {
        ...lockTime,
        ...(mysql ? { onUpdate: "CURRENT_TIMESTAMP", comment: "lock expiry time" } : {}),
      },
      locked_at: { ...lockTime, ...(mysql ? { comment: "lock time" } : {}) },
      locked_by: { type: t.text, ...varchar(255), ...(mysql ? { comment: "who lock" } : {}) },
    },
  });
  return { AsyncJob, ShedLock };
}

/**
 * A TypeORM migration that creates or upgrades the queue's tables: add it to
 * your DataSource's `migrations` and `typeorm migration:run` (or
 * `dataSource.runMigrations()`) applies it with your own.
 *
 * It runs core's versioned, idempotent migrations on TypeORM's query runner,
 * so TypeORM's migration table and `queue.migrate()` always agree, also about
 * versions added later, and a table the Go library created is upgraded in
 * place. `down()` drops both tables (and the queue's version records).
 * Subclass it and set `tables` for other table names.
 */
export class PersistentQueueSchema1764000000000 implements MigrationInterface {
  /** TypeORM's migration name; it must end in a 13-digit timestamp. */
  readonly name: string = "PersistentQueueSchema1764000000000";
  /** Table names, as passed to `new PersistentQueue({ tables })`. */
  readonly tables: Partial<TableNames> = {};

  /** Creates or upgrades the tables (idempotent). */
  async up(queryRunner: QueryRunner): Promise<void> {
    await migrate(fromTypeORM(queryRunner), { tables: this.tables });
  }

  /** Drops the job and lock tables and forgets their versions. */
  async down(queryRunner: QueryRunner): Promise<void> {
    const names = resolveTableNames(this.tables);
    await queryRunner.dropTable(names.jobs, true);
    await queryRunner.dropTable(names.locks, true);
    if (await queryRunner.hasTable(names.migrations)) {
      const q = queryRunner.connection.driver.escape.bind(queryRunner.connection.driver);
      await queryRunner.query(
        `DELETE FROM ${q(names.migrations)} WHERE ${q("scope")} = '${names.jobs}'`,
      );
    }
  }
}
