import { HeuristicTokenCounter, ManualClock } from '@tollgate/core';
import { ProviderError, ScriptedClient, type ScriptedReply } from '@tollgate/llm-clients';
import { describe, expect, it } from 'vitest';
import { HybridAgent } from '../agent/HybridAgent.js';
import { Consensus, type ConsensusEvent, normalizeAnswer, parseVote } from './Consensus.js';

class Voter extends HybridAgent {
  readonly systemPrompt = 'Answer, then give your confidence on its own line.';
}

const counter = new HeuristicTokenCounter();
const clock = new ManualClock();

function voter(id: string, reply: ScriptedReply, delayMs = 0) {
  const client = new ScriptedClient({ clock, tokenCounter: counter, script: [reply], delayMs });
  return new Voter({ client, clock, tokenCounter: counter, agentId: id });
}

async function decide(consensus: Consensus, question = 'Capital of France?') {
  const pending = consensus.decide(question);
  await clock.advanceAsync(1_000);
  return pending;
}

describe('normalizeAnswer and parseVote', () => {
  it('make differently worded answers vote together', () => {
    expect(normalizeAnswer('The answer is: Paris.')).toBe('paris');
    expect(normalizeAnswer('  PARIS!  ')).toBe('paris');
    expect(normalizeAnswer('3.14')).toBe('3.14');
    expect(parseVote('Paris\nConfidence: 0.9')).toEqual({ answer: 'Paris', confidence: 0.9 });
    expect(parseVote('Lyon\nconfidence = 40%')).toEqual({ answer: 'Lyon', confidence: 0.4 });
    expect(parseVote({ answer: 'Nice', confidence: 0.2 })).toEqual({ answer: 'Nice', confidence: 0.2 });
    expect(parseVote('no confidence given')).toEqual({ answer: 'no confidence given' });
  });
});

describe('Consensus', () => {
  it('decides by majority over normalised answers and streams votes, tally and decision', async () => {
    const consensus = new Consensus({
      clock,
      agents: [
        voter('a', { content: 'Paris.\nConfidence: 0.6' }, 300),
        voter('b', { content: 'Lyon\nConfidence: 0.99' }, 100),
        voter('c', { content: 'the answer is paris' }, 200),
      ],
    });
    const events: ConsensusEvent[] = [];
    consensus.events$.subscribe((e) => events.push(e));
    const result = await decide(consensus);
    expect(result).toMatchObject({ decision: 'Paris.', normalized: 'paris', method: 'majority', tie: false });
    expect(result.tally.map((t) => [t.normalized, t.votes, t.agentIds])).toEqual([
      ['paris', 2, ['a', 'c']],
      ['lyon', 1, ['b']],
    ]);
    expect(result.votes.map((v) => v.agentId)).toEqual(['a', 'b', 'c']);
    // Votes stream as they arrive (b answers first), then the tally and the decision.
    expect(events.map((e) => (e.type === 'vote' ? `vote:${e.vote.agentId}` : e.type))).toEqual([
      'started',
      'vote:b',
      'vote:c',
      'vote:a',
      'tally',
      'decision',
    ]);
    expect(result.usage.totalTokens).toBeGreaterThan(0);
  });

  it('breaks a tie by summed confidence, else by the first voter', async () => {
    const agents = () => [
      voter('a', { content: 'Lyon\nConfidence: 0.5' }),
      voter('b', { content: 'Paris\nConfidence: 0.9' }),
    ];
    const byConfidence = await decide(new Consensus({ clock, agents: agents() }));
    expect(byConfidence).toMatchObject({ decision: 'Paris', method: 'confidence', tie: true });
    const byFirst = await decide(new Consensus({ clock, agents: agents(), tieBreak: 'first' }));
    expect(byFirst).toMatchObject({ decision: 'Lyon', method: 'first', tie: true });
    const noConfidence = await decide(
      new Consensus({ clock, agents: [voter('a', { content: 'Lyon' }), voter('b', { content: 'Paris' })] }),
    );
    expect(noConfidence).toMatchObject({ decision: 'Lyon', method: 'first' });
  });

  it('asks a judge agent to break a tie, and falls back to first when the judge picks nothing tied', async () => {
    const agents = () => [voter('a', { content: 'Lyon' }), voter('b', { content: 'Paris' })];
    const events: ConsensusEvent[] = [];
    const judged = new Consensus({
      clock,
      agents: agents(),
      tieBreak: { judge: voter('judge', { content: 'Paris' }) },
    });
    judged.events$.subscribe((e) => events.push(e));
    const result = await decide(judged);
    expect(result).toMatchObject({ decision: 'Paris', method: 'judge', tie: true });
    expect(result.judge?.messages.find((m) => m.role === 'user')?.content).toMatch(/1\. Lyon\n2\. Paris$/);
    expect(events.find((e) => e.type === 'tie')).toMatchObject({
      candidates: ['Lyon', 'Paris'],
      tieBreak: 'judge',
    });
    const byNumber = await decide(
      new Consensus({ clock, agents: agents(), tieBreak: { judge: voter('judge', { content: '2' }) } }),
    );
    expect(byNumber).toMatchObject({ decision: 'Paris', method: 'judge' });
    const lost = await decide(
      new Consensus({
        clock,
        agents: agents(),
        tieBreak: { judge: voter('judge', { content: 'Marseille' }) },
      }),
    );
    expect(lost).toMatchObject({ decision: 'Lyon', method: 'first' });
  });

  it('leaves failed agents out of the vote and decides nothing without a quorum', async () => {
    const failing = voter('x', new ProviderError('bad request', { provider: 'scripted', status: 400 }));
    const result = await decide(
      new Consensus({ clock, agents: [failing, voter('a', { content: 'Paris' })], quorum: 1 }),
    );
    expect(result.votes[0]).toMatchObject({ agentId: 'x', status: 'failed', answer: undefined });
    expect(result).toMatchObject({ decision: 'Paris', method: 'majority' });
    const none = await decide(
      new Consensus({
        clock,
        agents: [
          voter('y', new ProviderError('bad', { provider: 'scripted', status: 400 })),
          voter('a', { content: 'Paris' }),
        ],
        quorum: 2,
      }),
    );
    expect(none).toMatchObject({ decision: undefined, method: 'none' });
  });
});
