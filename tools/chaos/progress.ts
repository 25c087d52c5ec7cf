// Where the run stands, from PostgreSQL: how many due messages exist, how many are still waiting
// or being sent, and how the disclosures are doing. The run ends when nothing is left to settle.
import pg from 'pg';
import { harnessUrl } from './database.ts';

export interface Progress {
  created: number;
  waiting: number; // pending or queued
  sending: number;
  settled: number;
  inboundRead: number;
  safetySent: number;
}

export class ProgressProbe {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string) {
    this.pool = new pg.Pool({ connectionString: harnessUrl(databaseUrl), max: 1 });
    this.pool.on('error', () => {}); // a cut connection is replaced on the next query
  }

  async read(): Promise<Progress> {
    const { rows } = await this.pool.query<Record<keyof Progress, string>>(`
      SELECT
        count(*) FILTER (WHERE direction = 'out' AND step IS NOT NULL) AS created,
        count(*) FILTER (WHERE direction = 'out' AND step IS NOT NULL AND status IN ('pending', 'queued')) AS waiting,
        count(*) FILTER (WHERE direction = 'out' AND step IS NOT NULL AND status = 'sending') AS sending,
        count(*) FILTER (WHERE direction = 'out' AND step IS NOT NULL AND status NOT IN ('pending', 'queued', 'sending')) AS settled,
        count(*) FILTER (WHERE direction = 'in' AND "processedAt" IS NOT NULL) AS "inboundRead",
        count(DISTINCT "subscriberId") FILTER (WHERE direction = 'out' AND template LIKE 'safety\\_%' AND status IN ('sent', 'delivered')) AS "safetySent"
      FROM messages`);
    const r = rows[0]!;
    return {
      created: Number(r.created),
      waiting: Number(r.waiting),
      sending: Number(r.sending),
      settled: Number(r.settled),
      inboundRead: Number(r.inboundRead),
      safetySent: Number(r.safetySent),
    };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
