// Writes and reads conversations, their messages and votes: parameterised SQL only.
import type { Database, SqlRunner } from '../db/Database.js';
import { HttpError } from '../errors.js';
import type {
  AgentResponse,
  ConversationFailure,
  ConversationResult,
  ConversationStatus,
} from './messages.js';
import type { ResolvedProfile } from './profiles.js';

/** A conversation as it starts. */
export interface NewConversation {
  readonly id: string;
  readonly ownerId: string;
  readonly ownerName: string;
  readonly message: string;
  readonly turns: number;
  readonly agents: readonly ResolvedProfile[];
}

/** One agent's answer (or failure) in one turn, as stored. */
export interface StoredMessage {
  readonly turn: number;
  readonly position: number;
  readonly profile: ResolvedProfile;
  readonly status: string;
  readonly content: string | null;
  readonly error: string | null;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
  readonly durationMs: number;
}

/** One vote of a turn. */
export interface StoredVote {
  readonly agentId: string;
  readonly answer: string | null;
  readonly normalized: string | null;
}

/** How a conversation ended. */
export interface ConversationEnd {
  readonly status: Exclude<ConversationStatus, 'running'>;
  readonly consensus: string | null;
  readonly confidence: number;
  readonly method: string | null;
  readonly durationMs: number;
  readonly error?: ConversationFailure | undefined;
}

/** `GET /conversations/{id}`: the result, the question, who asked, every message and vote. */
export interface ConversationDetail extends ConversationResult {
  readonly message: string;
  readonly owner: string;
  readonly created_at: string;
  readonly finished_at: string | null;
  readonly agents: readonly ResolvedProfile[];
  readonly messages: readonly {
    readonly agent_id: string;
    readonly turn: number;
    readonly model: string;
    readonly temperature: number;
    readonly personality: string;
    readonly status: string;
    readonly content: string | null;
    readonly error: string | null;
    readonly tokens: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    readonly cost: number;
    readonly duration_ms: number;
    readonly created_at: string;
  }[];
  readonly votes: readonly {
    turn: number;
    agent_id: string;
    answer: string | null;
    normalized: string | null;
  }[];
}

/** A row of `conversations`. */
export interface ConversationRow {
  id: string;
  owner_id: string;
  owner_name: string;
  message: string;
  status: ConversationStatus;
  num_agents: number;
  turns: number;
  turns_completed: number;
  agents: ResolvedProfile[];
  consensus: string | null;
  confidence: number;
  method: string | null;
  prompt_tokens: string | number;
  completion_tokens: string | number;
  cost_usd: number;
  error_code: string | null;
  error_message: string | null;
  duration_ms: number | null;
  created_at: Date | string;
  updated_at: Date | string;
  finished_at: Date | string | null;
}

interface MessageRow {
  turn: number;
  position: number;
  agent_id: string;
  model: string;
  temperature: number;
  personality: string;
  status: string;
  content: string | null;
  error: string | null;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  duration_ms: number;
  created_at: Date | string;
}

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

/** The conversation tables of a gateway's database (see `CONVERSATION_MIGRATIONS`). */
export class ConversationStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Records a conversation as `running`.
   * @throws HttpError 409 when the id is taken, worded the same whoever holds it: the answer
   *   never says whether it is another key's conversation.
   */
  async create(c: NewConversation): Promise<void> {
    const rows = await this.#db.query(
      `INSERT INTO conversations (id, owner_id, owner_name, message, status, num_agents, turns, agents)
       VALUES ($1, $2, $3, $4, 'running', $5, $6, $7::jsonb)
       ON CONFLICT (id) DO NOTHING RETURNING id`,
      [c.id, c.ownerId, c.ownerName, c.message, c.agents.length, c.turns, JSON.stringify(c.agents)],
    );
    if (rows.length === 0)
      throw new HttpError(
        409,
        'conversation_id_unavailable',
        '`conversation_id` cannot be used; choose another (ids are unique across the gateway).',
        { param: 'conversation_id' },
      );
  }

  /** Stores one turn's messages and votes, and adds their tokens and cost; `complete` counts the turn as done. */
  async addTurn(
    id: string,
    messages: readonly StoredMessage[],
    votes: readonly StoredVote[],
    complete: boolean,
  ): Promise<void> {
    await this.#db.transaction(async (tx) => {
      for (const m of messages) await insertMessage(tx, id, m);
      const turn = messages[0]?.turn ?? 0;
      for (const v of votes)
        await tx.query(
          `INSERT INTO conversation_votes (conversation_id, turn, agent_id, answer, normalized)
           VALUES ($1, $2, $3, $4, $5)`,
          [id, turn, v.agentId, v.answer, v.normalized],
        );
      const sum = (f: (m: StoredMessage) => number) => messages.reduce((a, m) => a + f(m), 0);
      await tx.query(
        `UPDATE conversations SET prompt_tokens = prompt_tokens + $2, completion_tokens = completion_tokens + $3,
           cost_usd = cost_usd + $4, turns_completed = turns_completed + $5, updated_at = now()
         WHERE id = $1`,
        [
          id,
          sum((m) => m.promptTokens),
          sum((m) => m.completionTokens),
          sum((m) => m.costUsd),
          complete ? 1 : 0,
        ],
      );
    });
  }

  /** Records how a conversation ended. */
  async finish(id: string, end: ConversationEnd): Promise<void> {
    await this.#db.query(
      `UPDATE conversations SET status = $2, consensus = $3, confidence = $4, method = $5, duration_ms = $6,
         error_code = $7, error_message = $8, finished_at = now(), updated_at = now()
       WHERE id = $1`,
      [
        id,
        end.status,
        end.consensus,
        end.confidence,
        end.method,
        end.durationMs,
        end.error?.code ?? null,
        end.error?.message ?? null,
      ],
    );
  }

  /**
   * Ends as `failed` the conversations still `running` that nothing has written to for
   * `staleMs` (their gateway stopped mid-way). Returns how many.
   */
  async failStale(staleMs: number): Promise<number> {
    const rows = await this.#db.query(
      `UPDATE conversations SET status = 'failed', error_code = 'interrupted',
         error_message = 'The gateway running this conversation stopped before it ended.',
         finished_at = now(), updated_at = now()
       WHERE status = 'running' AND updated_at < now() - make_interval(secs => $1)
       RETURNING id`,
      [staleMs / 1000],
    );
    return rows.length;
  }

  /** The conversation `id`, or `undefined`. */
  async row(id: string): Promise<ConversationRow | undefined> {
    const rows = await this.#db.query<ConversationRow>('SELECT * FROM conversations WHERE id = $1', [id]);
    return rows[0];
  }

  /** Everything about a conversation, or `undefined`. */
  async detail(id: string): Promise<ConversationDetail | undefined> {
    const row = await this.row(id);
    return row ? this.detailOf(row) : undefined;
  }

  /** The detail of a row already read. */
  async detailOf(row: ConversationRow): Promise<ConversationDetail> {
    const messages = await this.#db.query<MessageRow>(
      `SELECT turn, position, agent_id, model, temperature, personality, status, content, error,
         prompt_tokens, completion_tokens, cost_usd, duration_ms, created_at
       FROM conversation_messages WHERE conversation_id = $1 ORDER BY turn, position`,
      [row.id],
    );
    const votes = await this.#db.query<{
      turn: number;
      agent_id: string;
      answer: string | null;
      normalized: string | null;
    }>(
      `SELECT v.turn, v.agent_id, v.answer, v.normalized FROM conversation_votes v
       LEFT JOIN conversation_messages m
         ON m.conversation_id = v.conversation_id AND m.turn = v.turn AND m.agent_id = v.agent_id
       WHERE v.conversation_id = $1 ORDER BY v.turn, m.position`,
      [row.id],
    );
    return {
      ...resultOf(row, messages),
      message: row.message,
      owner: row.owner_name,
      created_at: iso(row.created_at)!,
      finished_at: iso(row.finished_at),
      agents: row.agents,
      messages: messages.map((m) => ({
        agent_id: m.agent_id,
        turn: m.turn,
        model: m.model,
        temperature: m.temperature,
        personality: m.personality,
        status: m.status,
        content: m.content,
        error: m.error,
        tokens: {
          prompt_tokens: m.prompt_tokens,
          completion_tokens: m.completion_tokens,
          total_tokens: m.prompt_tokens + m.completion_tokens,
        },
        cost: m.cost_usd,
        duration_ms: m.duration_ms,
        created_at: iso(m.created_at)!,
      })),
      votes,
    };
  }
}

async function insertMessage(tx: SqlRunner, id: string, m: StoredMessage): Promise<void> {
  await tx.query(
    `INSERT INTO conversation_messages (conversation_id, turn, position, agent_id, model, temperature, personality,
       status, content, error, prompt_tokens, completion_tokens, cost_usd, duration_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [
      id,
      m.turn,
      m.position,
      m.profile.agent_id,
      m.profile.model,
      m.profile.temperature,
      m.profile.personality,
      m.status,
      m.content,
      m.error,
      m.promptTokens,
      m.completionTokens,
      m.costUsd,
      m.durationMs,
    ],
  );
}

/** The `POST /chat` shape of a stored conversation and its messages. */
export function resultOf(
  row: ConversationRow,
  messages: readonly Pick<MessageRow, 'agent_id' | 'content' | 'model' | 'temperature' | 'turn' | 'status'>[],
): ConversationResult {
  const prompt = Number(row.prompt_tokens);
  const completion = Number(row.completion_tokens);
  const started = new Date(row.created_at).getTime();
  const end = row.finished_at ? new Date(row.finished_at).getTime() : Date.now();
  const responses: AgentResponse[] = messages
    .filter((m) => m.status === 'completed' && m.content !== null)
    .map((m) => ({
      agent_id: m.agent_id,
      response: m.content!,
      model: m.model,
      temperature: m.temperature,
      turn: m.turn,
    }));
  return {
    conversation_id: row.id,
    agent_responses: responses,
    consensus_result: row.consensus,
    confidence: row.confidence,
    metadata: {
      status: row.status,
      duration: (row.duration_ms ?? end - started) / 1000,
      turns_completed: row.turns_completed,
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      cost: row.cost_usd,
      num_agents: row.num_agents,
      turns: row.turns,
      method: row.method,
      ...(row.error_code ? { error: { code: row.error_code, message: row.error_message ?? '' } } : {}),
    },
  };
}
