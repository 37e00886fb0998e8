import type { Opened, Target } from "@persistent-queue/testkit";
import type { Sequelize } from "sequelize";
export function open(target: Target, dialect?: "mysql" | "mariadb"): Promise<Opened>;
export function openSequelize(target: Target, dialect?: "mysql" | "mariadb"): Sequelize;
