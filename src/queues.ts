// BullMQ queues. Redis holds only work in flight: every job names a row in PostgreSQL by id and
// carries nothing else (never a phone number, an address or a text), and a sweep can rebuild the
// jobs from the rows if Redis loses them.
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { createRedis, type RedisClient } from './redis.ts';

/** Program messages go on the channel queues; answers a person is waiting for (safety messages,
 * keyword replies, acknowledgements) on `priority`, which has its own workers so it never waits
 * behind a backlog of nudges. */
export const QUEUE_NAMES = ['sms', 'email', 'priority', 'inbound', 'events'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export interface SendJob {
  messageId: string;
}
export interface InboundJob {
  messageId: string;
}
/** `events`: one webhook delivery (a webhook_deliveries row), with its own workers (src/webhooks/). */
export interface EventJob {
  deliveryId: string;
}
export type JobData = {
  sms: SendJob;
  email: SendJob;
  priority: SendJob;
  inbound: InboundJob;
  events: EventJob;
};

export type Queues = { [K in QueueName]: Queue<JobData[K]> };

/** A connection for BullMQ (a Redis Cluster's when REDIS_URL names one: src/redis.ts). Queues and
 * workers take their prefix from queuePrefix(config), a hash tag on a cluster. */
export function redisConnection(url: string, forWorker = false): RedisClient {
  return createRedis(url, {
    // Workers block on Redis and must not give up on a slow command; BullMQ requires this.
    maxRetriesPerRequest: forWorker ? null : 3,
    enableReadyCheck: true,
    lazyConnect: false,
  });
}

export function createQueues(connection: ConnectionOptions, prefix: string): Queues {
  const q = <K extends QueueName>(name: K) => new Queue<JobData[K]>(name, { connection, prefix });
  return {
    sms: q('sms'),
    email: q('email'),
    priority: q('priority'),
    inbound: q('inbound'),
    events: q('events'),
  };
}

/** Retries: exponential backoff from 2 s, capped by the number of attempts (about 4 minutes in all). */
export const SEND_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 2000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** Reading an inbound reply: quick retries (the person may be waiting for an answer). */
export const INBOUND_JOB_OPTIONS: JobsOptions = {
  attempts: 10,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/** jobIds are deterministic so the same message is never queued twice (BullMQ ignores a duplicate
 * id while the first job exists; the worker's status check covers the rest). No ':' allowed. */
export const sendJobId = (messageId: string) => `send-${messageId}`;
export const inboundJobId = (messageId: string) => `in-${messageId}`;
export const eventJobId = (deliveryId: string) => `wh-${deliveryId}`;

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}
