// Runs one conversation: N agents for T turns, each turn decided by Consensus, streamed and stored.
import { Consensus, type ConsensusResult, type Vote } from '@tollgate/agents';
import type { Clock, Logger } from '@tollgate/core';
import type { UsageRecorder } from '../keys/UsageRecorder.js';
import type { ConversationAgent, Transcript } from './ConversationAgent.js';
import type { ConversationHub } from './ConversationHub.js';
import type { ConversationStore, StoredMessage, StoredVote } from './ConversationStore.js';
import type { ConversationFailure, ConversationResult } from './messages.js';

/** One conversation to run: its agents already built over the shared transcript. */
export interface ConversationRun {
  readonly id: string;
  readonly message: string;
  readonly turns: number;
  readonly agents: readonly ConversationAgent[];
  readonly transcript: Transcript;
  /** Whose usage the calls are. */
  readonly principalId: string;
  readonly signal: AbortSignal;
}

/** What running a conversation uses. */
export interface RunnerParts {
  readonly store: ConversationStore;
  readonly hub: ConversationHub;
  readonly usage: UsageRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The decision of one turn, as streamed. */
interface TurnDecision {
  readonly consensus: string | null;
  readonly method: string;
  readonly confidence: number;
}

/** Share of the valid votes that went to the decision (0 without one). */
export function confidenceOf(result: Pick<ConsensusResult, 'decision' | 'normalized' | 'tally'>): number {
  const valid = result.tally.reduce((n, t) => n + t.votes, 0);
  const winner = result.tally.find((t) => t.normalized === result.normalized);
  return result.decision === undefined || !winner || valid === 0 ? 0 : winner.votes / valid;
}

/**
 * Runs the turns: in each, every agent answers at once (seeing the others' answers of the
 * turn before) and `Consensus` tallies the votes. Each answer is streamed as it arrives;
 * each turn is stored before the next begins. The first agent that fails (a provider
 * error, a quota wait past its timeout, an abort) ends the conversation as `failed` once
 * its turn is stored: what was said so far stays. Never rejects for an agent's failure.
 */
export async function runConversation(
  run: ConversationRun,
  parts: RunnerParts,
): Promise<ConversationResult | undefined> {
  const started = parts.clock.now();
  let last: TurnDecision = { consensus: null, method: 'none', confidence: 0 };
  let failure: ConversationFailure | undefined;
  try {
    for (let turn = 1; turn <= run.turns && !failure; turn++) {
      const result = await runTurn(run, parts, turn);
      failure = await storeTurn(run, parts, turn, result);
      if (failure) break;
      last = { consensus: result.decision ?? null, method: result.method, confidence: confidenceOf(result) };
      parts.hub.publish(run.id, { type: 'consensus_update', turn, ...last, ...wireVotes(result) });
      run.transcript.turn = turn;
      run.transcript.previous = new Map(result.votes.map((v) => [v.agentId, v.answer ?? '']));
    }
  } catch (error) {
    parts.logger.error('a conversation failed to be stored', { id: run.id, error: (error as Error).message });
    failure = { code: 'internal_error', message: 'The conversation could not be stored.' };
  }
  return finish(run, parts, last, failure, parts.clock.now() - started);
}

async function runTurn(run: ConversationRun, parts: RunnerParts, turn: number): Promise<ConsensusResult> {
  const consensus = new Consensus({ agents: run.agents, tieBreak: 'confidence', clock: parts.clock });
  const byId = new Map(run.agents.map((a) => [a.agentId, a]));
  const subscription = consensus.events$.subscribe((event) => {
    if (event.type !== 'vote') return;
    const { vote } = event;
    const profile = byId.get(vote.agentId)!.profile;
    const { usage, cost, durationMs, error } = vote.result;
    parts.hub.publish(run.id, {
      type: 'agent_response',
      agent_id: vote.agentId,
      model: profile.model,
      temperature: profile.temperature,
      turn,
      content: vote.result.ok ? (vote.answer ?? '') : null,
      status: vote.status,
      tokens: {
        prompt_tokens: usage.promptTokens,
        completion_tokens: usage.completionTokens,
        total_tokens: usage.promptTokens + usage.completionTokens,
      },
      cost,
      duration_ms: durationMs,
      ...(error ? { error: error.message } : {}),
    });
  });
  try {
    return await consensus.decide(run.message, { signal: run.signal });
  } finally {
    subscription.unsubscribe();
  }
}

/** Stores the turn and records the key's usage; returns the failure that ends the conversation, if any. */
async function storeTurn(
  run: ConversationRun,
  parts: RunnerParts,
  turn: number,
  result: ConsensusResult,
): Promise<ConversationFailure | undefined> {
  const messages: StoredMessage[] = result.votes.map((vote, position) =>
    storedMessage(run, turn, position, vote),
  );
  const votes: StoredVote[] = result.votes.map((v) => ({
    agentId: v.agentId,
    answer: v.answer ?? null,
    normalized: v.normalized ?? null,
  }));
  const failed = result.votes.find((v) => v.status !== 'completed');
  await parts.store.addTurn(run.id, messages, votes, failed === undefined);
  for (const v of result.votes) {
    const r = v.result;
    if (r.llmCalls === 0 && r.usage.totalTokens === 0) continue;
    parts.usage.record(run.principalId, {
      requests: r.llmCalls,
      promptTokens: r.usage.promptTokens,
      completionTokens: r.usage.completionTokens,
      costUsd: r.cost,
    });
  }
  if (!failed) return undefined;
  const error = failed.result.error as (Error & { code?: string }) | undefined;
  return {
    code: run.signal.aborted ? 'aborted' : (error?.code ?? 'agent_failed'),
    message: `${failed.agentId} did not answer in turn ${turn} (${failed.status}): ${error?.message ?? 'no answer'}`,
  };
}

function storedMessage(run: ConversationRun, turn: number, position: number, vote: Vote): StoredMessage {
  const agent = run.agents[position]!;
  const r = vote.result;
  return {
    turn,
    position,
    profile: agent.profile,
    status: vote.status,
    content: r.ok ? (vote.answer ?? '') : null,
    error: r.error?.message ?? null,
    promptTokens: r.usage.promptTokens,
    completionTokens: r.usage.completionTokens,
    costUsd: r.cost,
    durationMs: r.durationMs,
  };
}

function wireVotes(result: ConsensusResult) {
  return {
    votes: result.votes.map((v) => ({ agent_id: v.agentId, answer: v.answer ?? null })),
    tally: result.tally.map((t) => ({ answer: t.answer, votes: t.votes, agent_ids: [...t.agentIds] })),
  };
}

/** Stores the end, publishes it and returns the stored result (`undefined` when the database failed). */
async function finish(
  run: ConversationRun,
  parts: RunnerParts,
  last: TurnDecision,
  failure: ConversationFailure | undefined,
  durationMs: number,
): Promise<ConversationResult | undefined> {
  const status = failure ? ('failed' as const) : ('completed' as const);
  let result: ConversationResult | undefined;
  try {
    await parts.store.finish(run.id, { status, ...last, durationMs, error: failure });
    const detail = await parts.store.detail(run.id);
    result = detail && stripDetail(detail);
  } catch (error) {
    parts.logger.error('a conversation end could not be stored', {
      id: run.id,
      error: (error as Error).message,
    });
  }
  const error = failure ?? { code: 'internal_error', message: 'The conversation could not be stored.' };
  if (failure || !result) parts.hub.publish(run.id, { type: 'failed', error, result: result ?? null }, true);
  else parts.hub.publish(run.id, { type: 'completed', result }, true);
  return result;
}

/** The `POST /chat` part of a stored conversation's detail. */
export function stripDetail(d: ConversationResult): ConversationResult {
  return {
    conversation_id: d.conversation_id,
    agent_responses: d.agent_responses,
    consensus_result: d.consensus_result,
    confidence: d.confidence,
    metadata: d.metadata,
  };
}
