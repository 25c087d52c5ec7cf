-- CreateEnum
CREATE TYPE "SafetyBand" AS ENUM ('act', 'ask');

-- CreateEnum
CREATE TYPE "FlagDecision" AS ENUM ('safe', 'danger');

-- AlterTable
ALTER TABLE "safety_flags" ADD COLUMN     "band" "SafetyBand" NOT NULL DEFAULT 'act',
ADD COLUMN     "decidedAt" TIMESTAMPTZ(3),
ADD COLUMN     "decidedBy" TEXT,
ADD COLUMN     "decision" "FlagDecision",
ADD COLUMN     "risk" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN     "whyEnc" TEXT;

-- CreateIndex
CREATE INDEX "safety_flags_decidedAt_idx" ON "safety_flags"("decidedAt");

