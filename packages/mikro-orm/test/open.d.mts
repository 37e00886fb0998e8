import type { MikroORM, Options } from "@mikro-orm/core";
import type { Opened, Target } from "@persistent-queue/testkit";
export function openOrm(target: Target, options?: Partial<Options>): Promise<MikroORM>;
export function open(target: Target): Promise<Opened>;
export const missing: string | undefined;
