// Reads over many conversations: recent, full-text search, statistics, cleanup and export.
import type { Database } from '../db/Database.js';
import type { ConversationDetail, ConversationRow, ConversationStore } from './ConversationStore.js';
import { resultOf } from './ConversationStore.js';
import type { ConversationResult } from './messages.js';

/** A conversation in a list: its result without the responses, with the question and the owner. */
export interface ConversationSummary extends Omit<ConversationResult, 'agent_responses'> {
  readonly message: string;
  readonly owner: string;
  readonly created_at: string;
}

/** One search hit: the conversation, its rank and the best matching passage. */
export interface SearchHit extends ConversationSummary {
  readonly rank: number;
  /** A passage of a matching message, the matched words in `<b>`...`</b>`. */
  readonly snippet: string;
}

const summaryOf = (row: ConversationRow): ConversationSummary => {
  const { agent_responses: _, ...rest } = resultOf(row, []);
  return {
    ...rest,
    message: row.message,
    owner: row.owner_name,
    created_at: new Date(row.created_at).toISOString(),
  };
};

/**
 * The queries of the listing, search and admin routes. `owner` limits a query to one
 * principal's conversations; `null` reads everyone's (admins).
 */
export class ConversationQueries {
  readonly #db: Database;
  readonly #store: ConversationStore;

  constructor(db: Database, store: ConversationStore) {
    this.#db = db;
    this.#store = store;
  }

  /** The `limit` most recent conversations, newest first. */
  async recent(owner: string | null, limit: number): Promise<ConversationSummary[]> {
    const rows = await this.#db.query<ConversationRow>(
      `SELECT * FROM conversations WHERE ($1::text IS NULL OR owner_id = $1)
       ORDER BY created_at DESC, id LIMIT $2`,
      [owner, limit],
    );
    return rows.map(summaryOf);
  }

  /**
   * Conversations whose agents' messages match `query`, by PostgreSQL's text search
   * (`websearch_to_tsquery`: words, "phrases", `or`, `-word`), best first.
   */
  async search(owner: string | null, query: string, limit: number): Promise<SearchHit[]> {
    const rows = await this.#db.query<ConversationRow & { rank: number; snippet: string }>(
      `WITH q AS (SELECT websearch_to_tsquery('english', $2) AS query),
       hits AS (
         SELECT DISTINCT ON (m.conversation_id) m.conversation_id, ts_rank(m.search, q.query) AS rank,
           ts_headline('english', m.content, q.query, 'MaxFragments=1, MaxWords=20, MinWords=5') AS snippet
         FROM conversation_messages m, q
         WHERE m.search @@ q.query
         ORDER BY m.conversation_id, ts_rank(m.search, q.query) DESC
       )
       SELECT c.*, h.rank, h.snippet FROM hits h JOIN conversations c ON c.id = h.conversation_id
       WHERE ($1::text IS NULL OR c.owner_id = $1)
       ORDER BY h.rank DESC, c.created_at DESC LIMIT $3`,
      [owner, query, limit],
    );
    return rows.map((r) => ({ ...summaryOf(r), rank: r.rank, snippet: r.snippet }));
  }

  /** Deletes the ended conversations (with their messages and votes) created more than `days` ago. */
  async cleanup(days: number): Promise<{ conversations: number; messages: number; votes: number }> {
    return this.#db.transaction(async (tx) => {
      const old = `SELECT id FROM conversations WHERE status <> 'running' AND created_at < now() - make_interval(secs => $1)`;
      const secs = days * 86_400;
      const [m] = await tx.query<{ n: string }>(
        `SELECT count(*) AS n FROM conversation_messages WHERE conversation_id IN (${old})`,
        [secs],
      );
      const [v] = await tx.query<{ n: string }>(
        `SELECT count(*) AS n FROM conversation_votes WHERE conversation_id IN (${old})`,
        [secs],
      );
      const deleted = await tx.query(`DELETE FROM conversations WHERE id IN (${old}) RETURNING id`, [secs]);
      return { conversations: deleted.length, messages: Number(m?.n ?? 0), votes: Number(v?.n ?? 0) };
    });
  }

  /** Every conversation created in the last `days` days, oldest first, with messages and votes. */
  async export(days: number): Promise<ConversationDetail[]> {
    const rows = await this.#db.query<ConversationRow>(
      `SELECT * FROM conversations WHERE created_at >= now() - make_interval(secs => $1) ORDER BY created_at, id`,
      [days * 86_400],
    );
    const out: ConversationDetail[] = [];
    for (const row of rows) out.push(await this.#store.detailOf(row));
    return out;
  }
}
