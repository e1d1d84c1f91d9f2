// Consensus: several agents answer one question; votes are tallied, ties broken, each step streamed.
import {
  addUsage,
  type Clock,
  checkOptions,
  EMPTY_USAGE,
  InvalidArgumentError,
  optionRules,
  rule,
  systemClock,
  type Usage,
} from '@tollgate/core';
import { type Observable, Subject } from 'rxjs';
import type { HybridAgent } from '../agent/HybridAgent.js';
import type { TaskResult, TaskStatus } from '../agent/types.js';

/** One agent's answer. */
export interface Vote {
  readonly agentId: string;
  readonly agentName: string;
  readonly status: TaskStatus;
  /** The answer as parsed from the output (`undefined` when the agent failed). */
  readonly answer: string | undefined;
  /** What votes are compared by. */
  readonly normalized: string | undefined;
  readonly confidence: number | undefined;
  readonly result: TaskResult<unknown>;
}

/** Votes for one normalised answer. */
export interface TallyEntry {
  readonly normalized: string;
  /** The first vote's wording. */
  readonly answer: string;
  readonly votes: number;
  /** Sum of the voters' confidences (missing ones count 0). */
  readonly confidence: number;
  readonly agentIds: readonly string[];
}

/**
 * How a tie between the most-voted answers is broken: by the voters' summed confidence
 * (then first), by asking a judge agent to pick one of the tied answers (then first), or by
 * the tied answer whose first voter comes first in the agent list.
 */
export type TieBreak = 'confidence' | 'first' | { readonly judge: HybridAgent<unknown> };

export type DecisionMethod = 'majority' | 'confidence' | 'judge' | 'first' | 'none';

/** Options of {@link Consensus}. */
export interface ConsensusOptions {
  /** The voters: different models, temperatures or prompts. */
  readonly agents: readonly HybridAgent<unknown>[];
  /** @default 'confidence' */
  readonly tieBreak?: TieBreak | undefined;
  /** Maps an answer to what votes are compared by. @default {@link normalizeAnswer} */
  readonly normalize?: ((answer: string) => string) | undefined;
  /** Reads the answer and an optional confidence (0–1) from an agent's output. @default {@link parseVote} */
  readonly parse?:
    | ((output: unknown) => { readonly answer: string; readonly confidence?: number })
    | undefined;
  /** Fewest valid votes for a decision. @default 1 */
  readonly quorum?: number | undefined;
  readonly clock?: Clock | undefined;
}

/** The decision with everything that led to it. */
export interface ConsensusResult {
  readonly question: string;
  /** The winning answer in its first voter's wording; `undefined` without a quorum. */
  readonly decision: string | undefined;
  readonly normalized: string | undefined;
  readonly method: DecisionMethod;
  /** Whether the most-voted answers were tied. */
  readonly tie: boolean;
  /** Every vote, in the order of the agent list. */
  readonly votes: readonly Vote[];
  /** Answers by votes, most first. */
  readonly tally: readonly TallyEntry[];
  readonly judge?: TaskResult<unknown>;
  /** Tokens of every voter and the judge. */
  readonly usage: Usage;
  readonly cost: number;
  readonly durationMs: number;
}

/** What a consensus does, as it happens. */
export type ConsensusEvent = { readonly at: number } & (
  | { readonly type: 'started'; readonly question: string; readonly agents: readonly string[] }
  | { readonly type: 'vote'; readonly vote: Vote }
  | { readonly type: 'tally'; readonly tally: readonly TallyEntry[] }
  | { readonly type: 'tie'; readonly candidates: readonly string[]; readonly tieBreak: string }
  | { readonly type: 'decision'; readonly decision: string | undefined; readonly method: DecisionMethod }
);

/**
 * Lower case, without a leading "answer:" or article, punctuation and quotes, spaces
 * collapsed: "The answer is: Paris.", "paris" and "A sliding window" / "sliding window"
 * vote together.
 */
export function normalizeAnswer(answer: string): string {
  return answer
    .toLowerCase()
    .replace(/^\s*(final answer|the answer is|answer)\s*[:\-–]?\s*/u, '')
    .replace(/^(a|an|the)\s+/u, '')
    .replace(/(?<!\d)[.,](?!\d)|[!?;:"'`()[\]{}*_]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/**
 * Reads `{ answer, confidence }` objects as they are; in text, a line `confidence: 0.8`
 * (or `80%`) is the confidence and the rest the answer.
 */
export function parseVote(output: unknown): { answer: string; confidence?: number } {
  if (output && typeof output === 'object' && 'answer' in output) {
    const o = output as { answer: unknown; confidence?: unknown };
    const confidence = typeof o.confidence === 'number' ? o.confidence : undefined;
    return { answer: String(o.answer), ...(confidence === undefined ? {} : { confidence }) };
  }
  const text = String(output ?? '');
  const match = /^\s*confidence\s*[:=]\s*([\d.]+)\s*(%?)\s*$/imu.exec(text);
  if (!match) return { answer: text.trim() };
  const value = Number(match[1]) / (match[2] ? 100 : 1);
  const answer = text.replace(match[0], '').trim();
  return Number.isFinite(value) ? { answer, confidence: Math.min(1, Math.max(0, value)) } : { answer };
}

/**
 * Several agents answer the same question; the majority of normalised answers wins, ties
 * are broken as configured, and every vote, the tally and the decision are streamed on
 * `events$` while it happens. All calls go through each agent's governors as usual.
 */
export class Consensus {
  readonly events$: Observable<ConsensusEvent>;
  readonly #options: ConsensusOptions;
  readonly #clock: Clock;
  readonly #events = new Subject<ConsensusEvent>();

  /** @throws InvalidArgumentError for no agents, or an option of the wrong type or out of range. */
  constructor(options: ConsensusOptions) {
    if (!Array.isArray(options?.agents) || options.agents.length === 0)
      throw new InvalidArgumentError('Consensus.agents', 'at least one agent', options?.agents);
    checkOptions('Consensus', options, {
      tieBreak: rule(
        "'confidence', 'first' or { judge: an agent }",
        (v) =>
          v === 'confidence' ||
          v === 'first' ||
          typeof (v as { judge?: HybridAgent<unknown> })?.judge?.executeTask === 'function',
      ),
      normalize: optionRules.function,
      parse: optionRules.function,
      quorum: optionRules.positiveInt,
    });
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.events$ = this.#events.asObservable();
  }

  /**
   * Asks every agent `question` at once, tallies their normalised answers and decides:
   * by majority, else by the tie-break. Resolves however the agents fare (without a
   * quorum, `decision` is `undefined` and `method` is `'none'`).
   */
  async decide(
    question: string,
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<ConsensusResult> {
    const started = this.#clock.now();
    const { agents } = this.#options;
    this.#emit({ type: 'started', question, agents: agents.map((a) => a.agentId) });
    const votes = await Promise.all(agents.map((agent) => this.#vote(agent, question, options)));
    const tally = tallyVotes(votes);
    this.#emit({ type: 'tally', tally });
    const tied = tally.filter((t) => t.votes === tally[0]?.votes);
    const tie = tied.length > 1;
    const { winner, method, judge } = await this.#decision(question, votes, tied, options.signal);
    let usage = EMPTY_USAGE;
    let cost = 0;
    for (const r of [...votes.map((v) => v.result), ...(judge ? [judge] : [])]) {
      usage = addUsage(usage, r.usage);
      cost += r.cost;
    }
    this.#emit({ type: 'decision', decision: winner?.answer, method });
    return {
      question,
      decision: winner?.answer,
      normalized: winner?.normalized,
      method,
      tie,
      votes,
      tally,
      ...(judge ? { judge } : {}),
      usage,
      cost,
      durationMs: this.#clock.now() - started,
    };
  }

  /** One agent's vote: its answer parsed and normalised (none when its task failed). */
  async #vote(
    agent: HybridAgent<unknown>,
    question: string,
    options: { readonly signal?: AbortSignal | undefined },
  ): Promise<Vote> {
    const result = await agent.executeTask(question, options);
    const parsed = result.ok ? (this.#options.parse ?? parseVote)(result.output) : undefined;
    const answer = parsed?.answer;
    const normalized =
      answer === undefined ? undefined : (this.#options.normalize ?? normalizeAnswer)(answer);
    const vote: Vote = {
      agentId: agent.agentId,
      agentName: agent.name,
      status: result.status,
      answer,
      normalized: normalized === '' ? undefined : normalized,
      confidence: parsed?.confidence,
      result,
    };
    this.#emit({ type: 'vote', vote });
    return vote;
  }

  /** The winner of the most-voted answers `tied` (one: the majority), once a quorum voted. */
  async #decision(
    question: string,
    votes: readonly Vote[],
    tied: readonly TallyEntry[],
    signal: AbortSignal | undefined,
  ): Promise<{
    winner?: TallyEntry | undefined;
    method: DecisionMethod;
    judge?: TaskResult<unknown> | undefined;
  }> {
    const valid = votes.filter((v) => v.normalized !== undefined).length;
    if (valid < (this.#options.quorum ?? 1) || tied.length === 0) return { method: 'none' };
    if (tied.length === 1) return { winner: tied[0], method: 'majority' };
    const tieBreak = this.#options.tieBreak ?? 'confidence';
    this.#emit({
      type: 'tie',
      candidates: tied.map((t) => t.answer),
      tieBreak: typeof tieBreak === 'string' ? tieBreak : 'judge',
    });
    const normalize = this.#options.normalize ?? normalizeAnswer;
    return this.#breakTie(question, tied, tieBreak, normalize, signal);
  }

  async #breakTie(
    question: string,
    tied: readonly TallyEntry[],
    tieBreak: TieBreak,
    normalize: (answer: string) => string,
    signal: AbortSignal | undefined,
  ): Promise<{ winner: TallyEntry; method: DecisionMethod; judge?: TaskResult<unknown> }> {
    // `tied` is in tally order: votes, then first voter's position; so tied[0] is "first".
    const first = { winner: tied[0]!, method: 'first' as const };
    if (tieBreak === 'first') return first;
    if (tieBreak === 'confidence') {
      const best = Math.max(...tied.map((t) => t.confidence));
      const top = tied.filter((t) => t.confidence === best);
      return top.length === 1 && best > 0 ? { winner: top[0]!, method: 'confidence' } : first;
    }
    const prompt = [
      question,
      '',
      'Several answers were given. Reply with exactly one of them, as written:',
      ...tied.map((t, i) => `${i + 1}. ${t.answer}`),
    ].join('\n');
    const judge = await tieBreak.judge.executeTask(prompt, signal ? { signal } : {});
    if (judge.ok) {
      const picked = normalize(parseVote(judge.output).answer);
      const byText = tied.find((t) => t.normalized === picked);
      const byNumber = /^\d+$/.test(picked) ? tied[Number(picked) - 1] : undefined;
      const winner = byText ?? byNumber;
      if (winner) return { winner, method: 'judge', judge };
    }
    return { ...first, judge };
  }

  #emit(event: DistributiveOmit<ConsensusEvent, 'at'>): void {
    this.#events.next({ ...event, at: this.#clock.now() } as ConsensusEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Groups votes by normalised answer: most votes first, then by the first voter's position. */
export function tallyVotes(votes: readonly Vote[]): TallyEntry[] {
  const groups = new Map<string, { entry: TallyEntry; firstIndex: number }>();
  votes.forEach((vote, index) => {
    if (vote.normalized === undefined || vote.answer === undefined) return;
    const existing = groups.get(vote.normalized);
    if (!existing) {
      groups.set(vote.normalized, {
        entry: {
          normalized: vote.normalized,
          answer: vote.answer,
          votes: 1,
          confidence: vote.confidence ?? 0,
          agentIds: [vote.agentId],
        },
        firstIndex: index,
      });
    } else {
      const e = existing.entry;
      existing.entry = {
        ...e,
        votes: e.votes + 1,
        confidence: e.confidence + (vote.confidence ?? 0),
        agentIds: [...e.agentIds, vote.agentId],
      };
    }
  });
  return [...groups.values()]
    .sort((a, b) => b.entry.votes - a.entry.votes || a.firstIndex - b.firstIndex)
    .map((g) => g.entry);
}
