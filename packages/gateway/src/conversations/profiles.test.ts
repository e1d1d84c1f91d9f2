import { describe, expect, it } from 'vitest';
import { GatewayConfigError } from '../errors.js';
import { checkConversationsConfig } from './config.js';
import { resolveProfiles, systemPromptOf } from './profiles.js';
import { confidenceOf } from './runConversation.js';

describe('conversation profiles and settings', () => {
  const two = [
    { agent_id: 'a', model: 'm1', temperature: 0.1, personality: 'analytical' },
    { model: 'm2', temperature: 1.5, personality: 'a cautious lawyer' },
  ];

  it('cycles the profiles up to the count, with distinct ids', () => {
    expect(resolveProfiles(two, 3).map((p) => [p.agent_id, p.model])).toEqual([
      ['a', 'm1'],
      ['agent_1', 'm2'],
      ['agent_2', 'm1'],
    ]);
    expect(() => resolveProfiles([two[0]!, two[0]!], 2)).toThrow(/distinct agent_id/);
    expect(() => resolveProfiles([], 1)).toThrow(/at least one agent/);
  });

  it('builds the system prompt from a named personality or a free description', () => {
    expect(systemPromptOf(two[0]!)).toContain('step by step');
    expect(systemPromptOf(two[1]!)).toContain('as a cautious lawyer would');
  });

  it('confidence is the share of valid votes that went to the decision', () => {
    const tally = [
      { normalized: 'x', answer: 'X', votes: 2, confidence: 0, agentIds: ['a', 'b'] },
      { normalized: 'y', answer: 'Y', votes: 1, confidence: 0, agentIds: ['c'] },
    ];
    expect(confidenceOf({ decision: 'X', normalized: 'x', tally })).toBeCloseTo(2 / 3);
    expect(confidenceOf({ decision: undefined, normalized: undefined, tally: [] })).toBe(0);
  });

  it('checks the conversations section, naming the field at fault', () => {
    expect(checkConversationsConfig('c', { numAgents: 2, agents: two })).toMatchObject({ numAgents: 2 });
    const fail = (value: unknown) => {
      try {
        checkConversationsConfig('c', value);
      } catch (error) {
        expect(GatewayConfigError.is(error)).toBe(true);
        return (error as GatewayConfigError).setting;
      }
      throw new Error('accepted');
    };
    expect(fail({ agents: [{ model: 'm', temperature: 3, personality: 'p' }] })).toBe(
      'c.agents[0].temperature',
    );
    expect(fail({ turns: 0 })).toBe('c.turns');
    expect(fail({ numAgents: 9 })).toBe('c.numAgents');
    expect(fail({ colour: 'red' })).toBe('c.colour');
  });
});
