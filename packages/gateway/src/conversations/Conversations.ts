// The conversation service: starts conversations for principals, tracks the running ones, closes them.
import { randomUUID } from 'node:crypto';
import { type Clock, InvalidArgumentError, type Logger } from '@tollgate/core';
import type { Principal } from '../auth/Principal.js';
import type { Database } from '../db/Database.js';
import { HttpError } from '../errors.js';
import type { UsageRecorder } from '../keys/UsageRecorder.js';
import { type AgentCallParts, conversationAgentDeps } from './agentDeps.js';
import { ConversationAgent, type Transcript } from './ConversationAgent.js';
import { ConversationHub } from './ConversationHub.js';
import type { ConversationRow, ConversationStore } from './ConversationStore.js';
import { CONVERSATION_DEFAULTS, type ConversationsConfig } from './config.js';
import type { ConversationResult } from './messages.js';
import {
  type AgentProfile,
  DEFAULT_AGENT_PROFILES,
  type ResolvedProfile,
  resolveProfiles,
} from './profiles.js';
import { ConversationQueries } from './queries.js';
import { runConversation } from './runConversation.js';

/** The body of `POST /chat` (and `POST /stream/{conversation_id}`). */
export interface ChatRequestBody {
  readonly message: string;
  /** @default a new UUID */
  readonly conversation_id?: string | undefined;
  /** @default the number of `agents`, else the configured `numAgents` */
  readonly num_agents?: number | undefined;
  /** @default the configured `turns` */
  readonly turns?: number | undefined;
  /** This conversation's agents instead of the configured ones (cycled up to `num_agents`). */
  readonly agents?: readonly AgentProfile[] | undefined;
}

/** A conversation that has started. */
export interface StartedConversation {
  readonly id: string;
  /** Resolves when it ends, with what was stored (`undefined` when the database failed). */
  readonly done: Promise<ConversationResult | undefined>;
}

/** What the service is built from. */
export interface ConversationsParts extends AgentCallParts {
  readonly db: Database;
  readonly store: ConversationStore;
  readonly usage: UsageRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A conversation id: letters, digits, `-` and `_`, 1 to 128 characters. */
export const CONVERSATION_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Runs multi-agent conversations for principals: each in the background, streamed through
 * {@link hub}, stored as it goes. `close` aborts those still running (they end `failed`,
 * stored) and waits for them.
 */
export class Conversations {
  readonly hub: ConversationHub;
  readonly store: ConversationStore;
  readonly queries: ConversationQueries;
  readonly #parts: ConversationsParts;
  readonly #config: Required<ConversationsConfig>;
  readonly #running = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
  #closed = false;

  constructor(parts: ConversationsParts, config: ConversationsConfig = {}) {
    this.#parts = parts;
    this.store = parts.store;
    this.queries = new ConversationQueries(parts.db, parts.store);
    this.#config = {
      ...CONVERSATION_DEFAULTS,
      agents: DEFAULT_AGENT_PROFILES,
      ...Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)),
    } as Required<ConversationsConfig>;
    this.hub = new ConversationHub(this.#config.replayMs, parts.clock);
  }

  /** Conversations running in this process now. */
  get running(): number {
    return this.#running.size;
  }

  /**
   * Stores a new conversation as `running` and runs it in the background.
   * @throws HttpError 400 for counts over the configured maxima or a bad id, 409 for an id taken,
   *   503 once `close` was called.
   */
  async start(principal: Principal, body: ChatRequestBody): Promise<StartedConversation> {
    if (this.#closed)
      throw new HttpError(
        503,
        'shutting_down',
        'The gateway is shutting down; start the conversation elsewhere.',
        {
          type: 'server_error',
        },
      );
    const c = this.#config;
    const id = body.conversation_id ?? randomUUID();
    if (!CONVERSATION_ID_PATTERN.test(id))
      throw new HttpError(
        400,
        'invalid_request',
        '`conversation_id` must be 1 to 128 letters, digits, - or _.',
        {
          param: 'conversation_id',
        },
      );
    const count = body.num_agents ?? body.agents?.length ?? c.numAgents;
    const turns = body.turns ?? c.turns;
    if (count > c.maxAgents) throw tooMany('num_agents', c.maxAgents);
    if (turns > c.maxTurns) throw tooMany('turns', c.maxTurns);
    const profiles = profilesOf(body.agents ?? c.agents, count);
    await this.store.create({
      id,
      ownerId: principal.id,
      ownerName: principal.name,
      message: body.message,
      turns,
      agents: profiles,
    });
    this.hub.open(id);
    this.hub.publish(id, { type: 'started', message: body.message, agents: profiles, turns });
    const transcript: Transcript = { turn: 0, previous: new Map() };
    const onDelta = (agentId: string, delta: string) =>
      this.hub.publish(id, { type: 'agent_token', agent_id: agentId, turn: transcript.turn + 1, delta });
    const deps = conversationAgentDeps(this.#parts, principal, c.streamTokens ? onDelta : undefined);
    const agents = profiles.map((p) => new ConversationAgent(deps, p, transcript, c.maxTokens));
    const abort = new AbortController();
    const run = { id, message: body.message, turns, agents, transcript, principalId: principal.id };
    const done = runConversation({ ...run, signal: abort.signal }, { ...this.#parts, hub: this.hub }).finally(
      () => {
        for (const a of agents) a.dispose();
        this.#running.delete(id);
      },
    );
    this.#running.set(id, { abort, done });
    return { id, done };
  }

  /** Whether `principal` may read a conversation: its owner, or an admin. */
  canRead(principal: Principal, row: Pick<ConversationRow, 'owner_id'>): boolean {
    return row.owner_id === principal.id || principal.permissions.has('admin');
  }

  /** A conversation `principal` may read. @throws HttpError 404 when missing or not theirs (the same answer). */
  async readable(principal: Principal, id: string): Promise<ConversationRow> {
    const row = CONVERSATION_ID_PATTERN.test(id) ? await this.store.row(id) : undefined;
    if (!row || !this.canRead(principal, row))
      throw new HttpError(404, 'conversation_not_found', `No conversation "${id}" for this credential.`);
    return row;
  }

  /** Ends `failed` the conversations left `running` by a gateway that stopped (see `staleMs`). */
  failStale(): Promise<number> {
    return this.store.failStale(this.#config.staleMs);
  }

  /** Aborts the running conversations and waits until each is stored as ended. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#running.values()];
    for (const r of running) r.abort.abort(new Error('the gateway is shutting down'));
    await Promise.allSettled(running.map((r) => r.done));
    this.hub.close();
  }
}

/** The conversation's profiles. @throws HttpError 400 for duplicate agent ids. */
function profilesOf(agents: readonly AgentProfile[], count: number): ResolvedProfile[] {
  try {
    return resolveProfiles(agents, count);
  } catch (error) {
    if (!InvalidArgumentError.is(error)) throw error;
    throw new HttpError(400, 'invalid_request', `\`agents\` must have distinct agent_id values.`, {
      param: 'agents',
    });
  }
}

function tooMany(field: string, max: number): HttpError {
  return new HttpError(400, 'invalid_request', `\`${field}\` is at most ${max} on this gateway.`, {
    param: field,
  });
}
