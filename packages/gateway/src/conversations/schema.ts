// The conversations' tables: conversations, their messages (searchable) and the votes of each turn.
import type { Migration } from '../db/migrations.js';

/** Migrations of the conversation service, appended to the gateway's `MIGRATIONS`. */
export const CONVERSATION_MIGRATIONS: readonly Migration[] = [
  {
    version: 2,
    name: 'conversations, messages and votes',
    statements: [
      `CREATE TABLE conversations (
        id text PRIMARY KEY,
        owner_id text NOT NULL,
        owner_name text NOT NULL,
        message text NOT NULL,
        status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
        num_agents integer NOT NULL,
        turns integer NOT NULL,
        turns_completed integer NOT NULL DEFAULT 0,
        agents jsonb NOT NULL,
        consensus text,
        confidence double precision NOT NULL DEFAULT 0,
        method text,
        prompt_tokens bigint NOT NULL DEFAULT 0,
        completion_tokens bigint NOT NULL DEFAULT 0,
        cost_usd double precision NOT NULL DEFAULT 0,
        error_code text,
        error_message text,
        duration_ms double precision,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz
      )`,
      'CREATE INDEX conversations_owner_created ON conversations (owner_id, created_at DESC)',
      'CREATE INDEX conversations_created ON conversations (created_at DESC)',
      `CREATE TABLE conversation_messages (
        id bigserial PRIMARY KEY,
        conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        turn integer NOT NULL,
        position integer NOT NULL,
        agent_id text NOT NULL,
        model text NOT NULL,
        temperature double precision NOT NULL,
        personality text NOT NULL,
        status text NOT NULL,
        content text,
        error text,
        prompt_tokens integer NOT NULL DEFAULT 0,
        completion_tokens integer NOT NULL DEFAULT 0,
        cost_usd double precision NOT NULL DEFAULT 0,
        duration_ms double precision NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        search tsvector GENERATED ALWAYS AS (to_tsvector('english', coalesce(content, ''))) STORED,
        UNIQUE (conversation_id, turn, agent_id)
      )`,
      'CREATE INDEX conversation_messages_search ON conversation_messages USING gin (search)',
      'CREATE INDEX conversation_messages_created ON conversation_messages (created_at DESC)',
      `CREATE TABLE conversation_votes (
        conversation_id text NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        turn integer NOT NULL,
        agent_id text NOT NULL,
        answer text,
        normalized text,
        PRIMARY KEY (conversation_id, turn, agent_id)
      )`,
    ],
  },
];
