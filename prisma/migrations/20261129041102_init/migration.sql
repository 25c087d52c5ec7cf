-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Channel" AS ENUM ('sms', 'email');

-- CreateEnum
CREATE TYPE "SubscriberStatus" AS ENUM ('pending', 'active', 'stopped', 'expired');

-- CreateEnum
CREATE TYPE "EnrollmentState" AS ENUM ('pending', 'active', 'paused', 'safety_hold', 'completed', 'stopped');

-- CreateEnum
CREATE TYPE "ConsentKind" AS ENUM ('opt_in', 'confirm', 'opt_out', 'resubscribe', 'pause', 'resume');

-- CreateEnum
CREATE TYPE "Direction" AS ENUM ('in', 'out');

-- CreateEnum
CREATE TYPE "MessageKind" AS ENUM ('nudge', 'checkin', 'system', 'safety', 'reply');

-- CreateEnum
CREATE TYPE "MessageStatus" AS ENUM ('pending', 'queued', 'sending', 'sent', 'delivered', 'failed', 'undelivered', 'suppressed', 'unknown', 'received');

-- CreateEnum
CREATE TYPE "SafetyCategory" AS ENUM ('abuse', 'self_harm');

-- CreateEnum
CREATE TYPE "FlagStatus" AS ENUM ('open', 'acknowledged', 'cleared');

-- CreateTable
CREATE TABLE "subscribers" (
    "id" UUID NOT NULL,
    "phone" TEXT,
    "email" TEXT,
    "firstName" TEXT,
    "timezone" TEXT NOT NULL,
    "locale" TEXT NOT NULL DEFAULT 'en',
    "country" TEXT,
    "preferredHour" INTEGER,
    "status" "SubscriberStatus" NOT NULL DEFAULT 'pending',
    "emailBounces" INTEGER NOT NULL DEFAULT 0,
    "undeliverableAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "subscribers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consent_events" (
    "id" UUID NOT NULL,
    "subscriberId" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "kind" "ConsentKind" NOT NULL,
    "source" TEXT NOT NULL,
    "evidence" JSONB NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "consent_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "enrollments" (
    "id" UUID NOT NULL,
    "subscriberId" UUID NOT NULL,
    "program" TEXT NOT NULL,
    "channel" "Channel" NOT NULL,
    "state" "EnrollmentState" NOT NULL DEFAULT 'pending',
    "nextStep" TEXT,
    "nextRunAt" TIMESTAMPTZ(3),
    "startedAt" TIMESTAMPTZ(3),
    "lastSentDay" TEXT,
    "pausedUntil" TIMESTAMPTZ(3),
    "extraSteps" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "lowRatingRun" INTEGER NOT NULL DEFAULT 0,
    "completedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "enrollments_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "messages" (
    "id" UUID NOT NULL,
    "subscriberId" UUID,
    "enrollmentId" UUID,
    "channel" "Channel" NOT NULL,
    "direction" "Direction" NOT NULL,
    "kind" "MessageKind" NOT NULL,
    "step" TEXT,
    "template" TEXT,
    "vars" JSONB,
    "status" "MessageStatus" NOT NULL,
    "providerId" TEXT,
    "dedupeKey" TEXT,
    "toAddr" TEXT,
    "fromAddr" TEXT,
    "subject" TEXT,
    "body" TEXT,
    "bodyEnc" TEXT,
    "lane" TEXT,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "dueAt" TIMESTAMPTZ(3),
    "processedAt" TIMESTAMPTZ(3),
    "queuedAt" TIMESTAMPTZ(3),
    "sentAt" TIMESTAMPTZ(3),
    "deliveredAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "checkins" (
    "id" UUID NOT NULL,
    "enrollmentId" UUID NOT NULL,
    "messageId" UUID NOT NULL,
    "step" TEXT NOT NULL,
    "week" INTEGER NOT NULL,
    "openedAt" TIMESTAMPTZ(3) NOT NULL,
    "closesAt" TIMESTAMPTZ(3) NOT NULL,
    "reminderDueAt" TIMESTAMPTZ(3),
    "reminderSentAt" TIMESTAMPTZ(3),
    "answeredAt" TIMESTAMPTZ(3),
    "rating" INTEGER,
    "replyMessageId" UUID,

    CONSTRAINT "checkins_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "safety_flags" (
    "id" UUID NOT NULL,
    "subscriberId" UUID NOT NULL,
    "enrollmentId" UUID,
    "messageId" UUID,
    "category" "SafetyCategory" NOT NULL,
    "matched" TEXT[],
    "status" "FlagStatus" NOT NULL DEFAULT 'open',
    "note" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "acknowledgedAt" TIMESTAMPTZ(3),

    CONSTRAINT "safety_flags_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" UUID NOT NULL,
    "messageId" UUID,
    "channel" "Channel" NOT NULL,
    "to" TEXT NOT NULL,
    "from" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "subject" TEXT,
    "body" TEXT NOT NULL,
    "html" TEXT,
    "headers" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "suppressions" (
    "hash" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "suppressions_pkey" PRIMARY KEY ("hash")
);

-- CreateTable
CREATE TABLE "audit_events" (
    "id" UUID NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "subscribers_phone_key" ON "subscribers"("phone");

-- CreateIndex
CREATE UNIQUE INDEX "subscribers_email_key" ON "subscribers"("email");

-- CreateIndex
CREATE INDEX "consent_events_subscriberId_at_idx" ON "consent_events"("subscriberId", "at");

-- CreateIndex
CREATE INDEX "enrollments_state_nextRunAt_idx" ON "enrollments"("state", "nextRunAt");

-- CreateIndex
CREATE UNIQUE INDEX "enrollments_subscriberId_program_channel_key" ON "enrollments"("subscriberId", "program", "channel");

-- CreateIndex
CREATE UNIQUE INDEX "messages_dedupeKey_key" ON "messages"("dedupeKey");

-- CreateIndex
CREATE INDEX "messages_subscriberId_createdAt_idx" ON "messages"("subscriberId", "createdAt");

-- CreateIndex
CREATE INDEX "messages_status_updatedAt_idx" ON "messages"("status", "updatedAt");

-- CreateIndex
CREATE INDEX "messages_providerId_idx" ON "messages"("providerId");

-- CreateIndex
CREATE UNIQUE INDEX "messages_enrollmentId_step_key" ON "messages"("enrollmentId", "step");

-- CreateIndex
CREATE UNIQUE INDEX "checkins_messageId_key" ON "checkins"("messageId");

-- CreateIndex
CREATE INDEX "checkins_enrollmentId_closesAt_idx" ON "checkins"("enrollmentId", "closesAt");

-- CreateIndex
CREATE INDEX "safety_flags_status_createdAt_idx" ON "safety_flags"("status", "createdAt");

-- CreateIndex
CREATE INDEX "safety_flags_subscriberId_createdAt_idx" ON "safety_flags"("subscriberId", "createdAt");

-- CreateIndex
CREATE INDEX "outbox_to_createdAt_idx" ON "outbox"("to", "createdAt");

-- CreateIndex
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

-- AddForeignKey
ALTER TABLE "consent_events" ADD CONSTRAINT "consent_events_subscriberId_fkey" FOREIGN KEY ("subscriberId") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "enrollments" ADD CONSTRAINT "enrollments_subscriberId_fkey" FOREIGN KEY ("subscriberId") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_subscriberId_fkey" FOREIGN KEY ("subscriberId") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_enrollmentId_fkey" FOREIGN KEY ("enrollmentId") REFERENCES "enrollments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "checkins" ADD CONSTRAINT "checkins_enrollmentId_fkey" FOREIGN KEY ("enrollmentId") REFERENCES "enrollments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "safety_flags" ADD CONSTRAINT "safety_flags_subscriberId_fkey" FOREIGN KEY ("subscriberId") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "safety_flags" ADD CONSTRAINT "safety_flags_enrollmentId_fkey" FOREIGN KEY ("enrollmentId") REFERENCES "enrollments"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The scheduler's claim query reads only rows that are due. A partial index on those rows stays
-- small and flat however many people have finished or are waiting (Prisma cannot express it).
CREATE INDEX "enrollments_due_idx" ON "enrollments" ("program", "nextRunAt") WHERE "state" = 'active' AND "nextRunAt" IS NOT NULL;

-- Messages waiting to be (re)queued by the sweep.
CREATE INDEX "messages_unsent_idx" ON "messages" ("updatedAt") WHERE "status" IN ('pending', 'queued', 'sending');
