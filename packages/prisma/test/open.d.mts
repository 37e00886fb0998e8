import type { Opened, Target, TargetKind } from "@persistent-queue/testkit";

/** A generated PrismaClient of one of three providers: their model types differ, so tests use it loosely. */
// biome-ignore lint/suspicious/noExplicitAny: three generated client types behind one loader
type AnyPrismaClient = any;

export function open(target: Target): Promise<Opened>;
/** The generated PrismaClient class for a target kind. */
export function clientClass(kind: TargetKind): Promise<new (options: unknown) => AnyPrismaClient>;
/** A PrismaClient on the target; `pool` is the pg Pool behind PrismaPg on postgres. */
export function openClient(
  target: Target,
): Promise<{ prisma: AnyPrismaClient; pool?: { end(): Promise<void> } }>;
