-- AlterTable
ALTER TABLE "messages" ADD COLUMN     "variant" TEXT;

-- CreateTable
CREATE TABLE "experiment_variants_ended" (
    "program" TEXT NOT NULL,
    "step" TEXT NOT NULL,
    "variant" TEXT NOT NULL,
    "endedAt" TIMESTAMPTZ(3) NOT NULL,
    "endedBy" TEXT NOT NULL,

    CONSTRAINT "experiment_variants_ended_pkey" PRIMARY KEY ("program","step","variant")
);

-- The experiments report reads only the messages that carry a variant (a small share of all
-- rows); a partial index keeps it from scanning every message. Raw SQL: Prisma has no partial
-- indexes.
CREATE INDEX "messages_variant_idx" ON "messages" ("step", "variant") WHERE "variant" IS NOT NULL;
