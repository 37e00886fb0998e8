/** The two servers of the MySQL family; MariaDB is a variant of MySQL. */
export type MysqlVariant = "mysql" | "mariadb";

/** MySQL has SKIP LOCKED from 8.0.1, MariaDB from 10.6. */
export function supportsSkipLocked(variant: MysqlVariant, version: string): boolean {
  const [major = 0, minor = 0] = versionParts(version);
  return variant === "mariadb" ? major > 10 || (major === 10 && minor >= 6) : major >= 8;
}

/** INVISIBLE columns: MariaDB from 10.3.3, MySQL from 8.0.23. */
export function supportsInvisibleColumns(variant: MysqlVariant, version: string): boolean {
  const [major = 0, minor = 0, patch = 0] = versionParts(version);
  const atLeast = (a: number, b: number, c: number) =>
    major !== a ? major > a : minor !== b ? minor > b : patch >= c;
  return variant === "mariadb" ? atLeast(10, 3, 3) : atLeast(8, 0, 23);
}

/** "10.11.6-MariaDB-0+deb12u1" → [10, 11, 6]; "8.0.36" → [8, 0, 36]. */
function versionParts(version: string): number[] {
  return version.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0);
}
