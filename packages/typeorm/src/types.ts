// The TypeORM objects fromTypeORM takes, typed structurally (type declarations only:
// this file compiles to nothing), and its options.

/** What `queryRunner.query(sql, params, true)` returns on every TypeORM driver. */
export interface TypeORMQueryResult {
  records?: unknown[];
  raw?: unknown;
  affected?: number | null;
}

/**
 * The subset of TypeORM's `QueryRunner` this adapter uses. Typed structurally
 * so this package never imports TypeORM at run time; TypeORM 0.3.20+ and 1.x fit.
 */
export interface TypeORMQueryRunner {
  readonly connection: TypeORMDataSource;
  readonly manager: TypeORMEntityManager;
  readonly isReleased: boolean;
  readonly isTransactionActive: boolean;
  /** `structured: true`, TypeORM's `useStructuredResult`: the result as {@link TypeORMQueryResult}. */
  query(sql: string, params: unknown[] | undefined, structured: true): Promise<TypeORMQueryResult>;
  connect(): Promise<unknown>;
  release(): Promise<void>;
  startTransaction(...args: never[]): Promise<void>;
}

/** The subset of TypeORM's `EntityManager` this adapter uses. */
export interface TypeORMEntityManager {
  readonly connection: TypeORMDataSource;
  readonly queryRunner?: TypeORMQueryRunner | undefined;
  transaction<T>(runInTransaction: (manager: TypeORMEntityManager) => Promise<T>): Promise<T>;
}

/** The subset of TypeORM's `DataSource` this adapter uses. */
export interface TypeORMDataSource {
  readonly options: { readonly type: string };
  readonly isInitialized: boolean;
  createQueryRunner(mode?: "master" | "slave"): TypeORMQueryRunner;
  transaction<T>(runInTransaction: (manager: TypeORMEntityManager) => Promise<T>): Promise<T>;
  destroy(): Promise<void>;
}

/** Options of {@link fromTypeORM}. */
export interface FromTypeORMOptions {
  /**
   * SQLite only: how long a statement on the DataSource waits for a TypeORM
   * transaction that holds the (single, shared) connection, in ms. Default 5000.
   */
  readonly sqliteBusyTimeoutMs?: number;
}
