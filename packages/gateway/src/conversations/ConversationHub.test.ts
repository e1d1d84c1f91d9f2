import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { ConversationHub } from './ConversationHub.js';
import type { StreamMessage } from './messages.js';

const started = { type: 'started', message: 'q', agents: [], turns: 1 } as const;
const update = {
  type: 'consensus_update',
  turn: 1,
  consensus: 'a',
  method: 'majority',
  confidence: 1,
  votes: [],
  tally: [],
} as const;

describe('ConversationHub', () => {
  it('numbers and stamps messages; a late watcher gets the history first, then the new ones', () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const hub = new ConversationHub(1_000, clock);
    hub.open('c');
    const early: StreamMessage[] = [];
    hub.watch('c', (m) => early.push(m));
    hub.publish('c', started);
    clock.advance(5);
    hub.publish('c', update);
    const late: StreamMessage[] = [];
    hub.watch('c', (m) => late.push(m));
    hub.publish('c', { type: 'failed', error: { code: 'x', message: 'y' }, result: null }, true);
    expect(early.map((m) => [m.seq, m.type])).toEqual([
      [1, 'started'],
      [2, 'consensus_update'],
      [3, 'failed'],
    ]);
    expect(late).toEqual(early);
    expect(early[1]!.timestamp).toBe('2026-01-01T00:00:00.005Z');
    expect(early.every((m) => m.conversation_id === 'c')).toBe(true);
    hub.close();
  });

  it('a watcher that throws neither stops the others nor the publishing; nothing is published after the end', () => {
    const hub = new ConversationHub(1_000, new ManualClock(0));
    hub.open('c');
    const seen: number[] = [];
    hub.watch('c', () => {
      throw new Error('broken socket');
    });
    hub.watch('c', (m) => seen.push(m.seq));
    expect(hub.publish('c', started)?.seq).toBe(1);
    hub.publish('c', { type: 'failed', error: { code: 'x', message: 'y' }, result: null }, true);
    expect(hub.publish('c', update)).toBeUndefined();
    expect(seen).toEqual([1, 2]);
    expect(hub.watchers).toBe(0);
    expect(hub.watch('unknown', () => {})).toBeUndefined();
    hub.close();
  });

  it('sends agent_token pieces to the watchers of the moment only, with the seq of the message before', () => {
    const hub = new ConversationHub(1_000, new ManualClock(0));
    hub.open('c');
    const early: StreamMessage[] = [];
    hub.watch('c', (m) => early.push(m));
    hub.publish('c', started);
    hub.publish('c', { type: 'agent_token', agent_id: 'a', turn: 1, delta: 'Hel' });
    hub.publish('c', update);
    const late: StreamMessage[] = [];
    hub.watch('c', (m) => late.push(m));
    expect(early.map((m) => [m.type, m.seq])).toEqual([
      ['started', 1],
      ['agent_token', 1],
      ['consensus_update', 2],
    ]);
    expect(late.map((m) => m.type)).toEqual(['started', 'consensus_update']);
    hub.close();
  });

  it('a watcher that stops watching receives nothing more', () => {
    const hub = new ConversationHub(1_000, new ManualClock(0));
    hub.open('c');
    const seen: string[] = [];
    const stop = hub.watch('c', (m) => seen.push(m.type))!;
    hub.publish('c', started);
    stop();
    hub.publish('c', update);
    expect(seen).toEqual(['started']);
    hub.close();
  });
});
