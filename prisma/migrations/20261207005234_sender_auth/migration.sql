-- Inbound email: the sender proof (SPF/DKIM/DMARC verdict) the receiving relay recorded.
ALTER TABLE "messages" ADD COLUMN "senderAuth" TEXT;
