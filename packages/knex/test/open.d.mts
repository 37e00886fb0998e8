import type { Opened, Target } from "@persistent-queue/testkit";
import type { Knex } from "knex";
export function open(target: Target): Promise<Opened>;
/** A Knex instance on `target`: mysql2 on MariaDB, pg, better-sqlite3. */
export function openKnex(target: Target): Knex;
