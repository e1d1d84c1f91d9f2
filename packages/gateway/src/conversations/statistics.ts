// GET /statistics: conversations, agents' messages, errors, the circuit breaker and the quotas.
import type { Governor, ResourceStatus } from '@tollgate/limits';
import type { CircuitBreaker } from '@tollgate/llm-clients';
import type { Database } from '../db/Database.js';

/** The answer of `GET /statistics`. */
export interface ConversationStatistics {
  /** `'all'` for an admin, else `'own'`: the counts are of the caller's conversations only. */
  readonly scope: 'all' | 'own';
  readonly conversations: {
    readonly total: number;
    readonly today: number;
    readonly running: number;
    /** Seconds, over ended conversations. */
    readonly average_duration: number;
    /** Completed among ended ones (0 to 1; 0 with none ended). */
    readonly success_rate: number;
  };
  readonly agents: {
    readonly total_messages: number;
    readonly messages_per_model: Readonly<Record<string, number>>;
    /** Seconds per agent answer. */
    readonly average_response_time: number;
  };
  /** Agent answers that failed and conversations that failed, in the last hour and day. */
  readonly errors: {
    readonly last_hour: number;
    readonly last_day: number;
    readonly failed_conversations_last_hour: number;
    readonly failed_conversations_last_day: number;
  };
  readonly circuit_breakers: Readonly<Record<string, { readonly state: string }>>;
  readonly quota: {
    readonly provider: QuotaUse;
    readonly key: QuotaUse;
  };
}

/** A governor's room now. */
export interface QuotaUse {
  readonly remaining: Readonly<Record<string, number>>;
  readonly queued: number;
  readonly cooldown_until: string | null;
}

const use = (s: ResourceStatus): QuotaUse => ({
  remaining: s.remaining,
  queued: s.queued,
  cooldown_until:
    s.cooldownUntil !== null && s.cooldownUntil > s.at ? new Date(s.cooldownUntil).toISOString() : null,
});

const n = (v: unknown) => Number(v ?? 0);

/** Reads the statistics of `owner`'s conversations (`null`: everyone's). */
export async function readStatistics(
  db: Database,
  owner: string | null,
  live: { breaker: CircuitBreaker; provider: Governor; key: Governor },
): Promise<ConversationStatistics> {
  const [c] = await db.query<Record<string, string | number | null>>(
    `SELECT count(*) AS total,
       count(*) FILTER (WHERE created_at >= date_trunc('day', now())) AS today,
       count(*) FILTER (WHERE status = 'running') AS running,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'failed') AS failed,
       avg(duration_ms) FILTER (WHERE status <> 'running') AS avg_ms,
       count(*) FILTER (WHERE status = 'failed' AND updated_at >= now() - interval '1 hour') AS failed_hour,
       count(*) FILTER (WHERE status = 'failed' AND updated_at >= now() - interval '1 day') AS failed_day
     FROM conversations WHERE ($1::text IS NULL OR owner_id = $1)`,
    [owner],
  );
  const models = await db.query<{
    model: string;
    n: string;
    avg_ms: number | null;
    failed_hour: string;
    failed_day: string;
  }>(
    `SELECT m.model, count(*) AS n, avg(m.duration_ms) AS avg_ms,
       count(*) FILTER (WHERE m.status <> 'completed' AND m.created_at >= now() - interval '1 hour') AS failed_hour,
       count(*) FILTER (WHERE m.status <> 'completed' AND m.created_at >= now() - interval '1 day') AS failed_day
     FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
     WHERE ($1::text IS NULL OR c.owner_id = $1) GROUP BY m.model ORDER BY m.model`,
    [owner],
  );
  const messages = models.reduce((a, m) => a + n(m.n), 0);
  const responseMs = models.reduce((a, m) => a + n(m.avg_ms) * n(m.n), 0);
  const ended = n(c?.completed) + n(c?.failed);
  return {
    scope: owner === null ? 'all' : 'own',
    conversations: {
      total: n(c?.total),
      today: n(c?.today),
      running: n(c?.running),
      average_duration: n(c?.avg_ms) / 1000,
      success_rate: ended === 0 ? 0 : n(c?.completed) / ended,
    },
    agents: {
      total_messages: messages,
      messages_per_model: Object.fromEntries(models.map((m) => [m.model, n(m.n)])),
      average_response_time: messages === 0 ? 0 : responseMs / messages / 1000,
    },
    errors: {
      last_hour: models.reduce((a, m) => a + n(m.failed_hour), 0),
      last_day: models.reduce((a, m) => a + n(m.failed_day), 0),
      failed_conversations_last_hour: n(c?.failed_hour),
      failed_conversations_last_day: n(c?.failed_day),
    },
    circuit_breakers: { upstream: { state: live.breaker.state } },
    quota: {
      provider: use(live.provider.checkResourceAvailability()),
      key: use(live.key.checkResourceAvailability()),
    },
  };
}
