// The shapes of conversations on the wire: POST /chat's answer and the WebSocket messages.

/** Tokens, in the provider's (snake case) words. */
export interface WireUsage {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  readonly total_tokens: number;
}

/** How a conversation stands. */
export type ConversationStatus = 'running' | 'completed' | 'failed';

/** One agent's answer in one turn. */
export interface AgentResponse {
  readonly agent_id: string;
  readonly response: string;
  readonly model: string;
  readonly temperature: number;
  /** 1-based. */
  readonly turn: number;
}

/** What went wrong, when a conversation failed. */
export interface ConversationFailure {
  readonly code: string;
  readonly message: string;
}

/** `metadata` of a conversation. */
export interface ConversationMetadata {
  readonly status: ConversationStatus;
  /** Seconds from start to end (so far, while running). */
  readonly duration: number;
  readonly turns_completed: number;
  readonly usage: WireUsage;
  /** US dollars, by the pricing table (0 for unpriced models). */
  readonly cost: number;
  readonly num_agents: number;
  readonly turns: number;
  /** How the final consensus was reached: `majority`, `confidence`, `first` or `none`. */
  readonly method: string | null;
  readonly error?: ConversationFailure | undefined;
}

/** The answer of `POST /chat` (and the head of `GET /conversations/{id}`). */
export interface ConversationResult {
  readonly conversation_id: string;
  readonly agent_responses: readonly AgentResponse[];
  /** The answer agreed on in the last turn; `null` without one. */
  readonly consensus_result: string | null;
  /** Share of the last turn's valid votes that went to the consensus (0 to 1). */
  readonly confidence: number;
  readonly metadata: ConversationMetadata;
}

/** One vote of a turn. */
export interface WireVote {
  readonly agent_id: string;
  readonly answer: string | null;
}

/** Votes for one answer. */
export interface WireTallyEntry {
  readonly answer: string;
  readonly votes: number;
  readonly agent_ids: readonly string[];
}

/** A message sent to WebSocket watchers; `timestamp` is ISO 8601, `seq` counts from 1 per conversation. */
export type StreamMessage = {
  readonly conversation_id: string;
  readonly seq: number;
  readonly timestamp: string;
} & (
  | {
      readonly type: 'started';
      readonly message: string;
      readonly agents: readonly {
        agent_id: string;
        model: string;
        temperature: number;
        personality: string;
      }[];
      readonly turns: number;
    }
  | {
      readonly type: 'agent_response';
      readonly agent_id: string;
      readonly model: string;
      readonly temperature: number;
      readonly turn: number;
      /** The answer; `null` when the agent failed. */
      readonly content: string | null;
      readonly status: string;
      readonly tokens: WireUsage;
      readonly cost: number;
      readonly duration_ms: number;
      readonly error?: string | undefined;
    }
  | {
      /**
       * A piece of an agent's answer as the provider streams it. Live only: not stored, not
       * replayed to late watchers; `seq` is that of the message before it. A retried call
       * streams again from its start.
       */
      readonly type: 'agent_token';
      readonly agent_id: string;
      readonly turn: number;
      readonly delta: string;
    }
  | {
      readonly type: 'consensus_update';
      readonly turn: number;
      readonly consensus: string | null;
      readonly method: string;
      readonly confidence: number;
      readonly votes: readonly WireVote[];
      readonly tally: readonly WireTallyEntry[];
    }
  | { readonly type: 'completed'; readonly result: ConversationResult }
  | {
      readonly type: 'failed';
      readonly error: ConversationFailure;
      /** What was stored (`null` when the database could not be read). */
      readonly result: ConversationResult | null;
    }
);

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A {@link StreamMessage} before the hub numbers and stamps it. */
export type StreamMessageInput = DistributiveOmit<StreamMessage, 'seq' | 'timestamp' | 'conversation_id'>;
