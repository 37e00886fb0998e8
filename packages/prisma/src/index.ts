export {
  type FromPrismaOptions,
  fromPrisma,
  type PrismaRootClient,
  type PrismaTransactionClient,
  type PrismaTransactionOptions,
} from "./prisma.js";
export {
  PRISMA_QUEUE_FIELDS,
  type PrismaQueueField,
  type PrismaQueueFieldSet,
  type PrismaQueueModelOptions,
  type PrismaQueueProvider,
  prismaQueueModels,
} from "./schema.js";
