export { fromPrisma } from "./prisma.js";
export {
  PRISMA_QUEUE_FIELDS,
  type PrismaQueueField,
  type PrismaQueueFieldSet,
  type PrismaQueueModelOptions,
  type PrismaQueueProvider,
  prismaQueueModels,
} from "./schema.js";
export type {
  FromPrismaOptions,
  PrismaRootClient,
  PrismaTransactionClient,
  PrismaTransactionOptions,
} from "./types.js";
