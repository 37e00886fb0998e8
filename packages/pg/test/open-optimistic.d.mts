import type { Opened, Target } from "@persistent-queue/testkit";
export function open(target: Target): Promise<Opened>;
