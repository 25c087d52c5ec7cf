-- CreateIndex
CREATE INDEX "subscribers_status_createdAt_idx" ON "subscribers"("status", "createdAt");

