import type { NodeSqliteDatabase } from "@persistent-queue/node-sqlite";
import type { Opened, Target } from "@persistent-queue/testkit";
export const missing: string | undefined;
/** The part of node:sqlite's DatabaseSync the tests use (the repository's @types/node is 20's). */
export const DatabaseSync:
  | (new (
      path: string,
      options?: { readOnly?: boolean; open?: boolean },
    ) => NodeSqliteDatabase & { readonly isOpen: boolean })
  | undefined;
export function open(target: Target): Promise<Opened>;
