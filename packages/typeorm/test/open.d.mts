import type { Opened, Target } from "@persistent-queue/testkit";
import type { DataSourceOptions } from "typeorm";
export function dataSourceOptions(target: Target): DataSourceOptions;
export function open(target: Target): Promise<Opened>;
