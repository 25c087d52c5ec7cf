-- CreateTable
CREATE TABLE "optout_queries" (
    "id" UUID NOT NULL,
    "subscriberId" UUID NOT NULL,
    "messageId" UUID NOT NULL,
    "channel" "Channel" NOT NULL,
    "rule" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL,
    "resolution" TEXT,
    "resolvedAt" TIMESTAMPTZ(3),
    "resolvedBy" TEXT,

    CONSTRAINT "optout_queries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "optout_queries_messageId_key" ON "optout_queries"("messageId");

-- CreateIndex
CREATE INDEX "optout_queries_resolvedAt_createdAt_idx" ON "optout_queries"("resolvedAt", "createdAt");

-- CreateIndex
CREATE INDEX "optout_queries_subscriberId_idx" ON "optout_queries"("subscriberId");

-- AddForeignKey
ALTER TABLE "optout_queries" ADD CONSTRAINT "optout_queries_subscriberId_fkey" FOREIGN KEY ("subscriberId") REFERENCES "subscribers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

