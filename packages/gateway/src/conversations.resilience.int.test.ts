import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConversationDetail } from './conversations/ConversationStore.js';
import type { ConversationResult } from './conversations/messages.js';
import { call, type Harness, startHarness, testKey } from './test-support/harness.js';
import { watch } from './test-support/wsClient.js';

const admin = testKey('admin');
const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;
const fast = { latency: { ttftMs: 5, perTokenMs: 0, jitter: 0 }, completionTokens: [8, 16] as const };

describe('conversations when the provider fails', () => {
  const harnesses: Harness[] = [];
  afterAll(() => Promise.all(harnesses.map((h) => h.close())));

  it('a provider that refuses every call after the first turn ends the conversation failed, with the first turn stored', async () => {
    // The upstream key may make three requests in all: the first turn's.
    const h = await startHarness({ simulator: { ...fast, quota: { requestBudget: 3 } } });
    harnesses.push(h);
    const res = await call(h.gateway, '/chat', {
      key: admin,
      body: { message: 'Will this last?', turns: 3 },
    });
    expect(res.status).toBe(502);
    const body = await json<ConversationResult & { error: { code: string; message: string } }>(res);
    expect(body.metadata).toMatchObject({ status: 'failed', turns_completed: 1 });
    expect(body.error.message).toContain('turn 2');
    expect(body.agent_responses.map((r) => r.turn)).toEqual([1, 1, 1]);
    expect(body.consensus_result).not.toBeNull();
    const detail = await json<ConversationDetail>(
      await call(h.gateway, `/conversations/${body.conversation_id}`, { key: admin }),
    );
    expect(detail.metadata.status).toBe('failed');
    expect(detail.messages.map((m) => [m.turn, m.status])).toEqual([
      [1, 'completed'],
      [1, 'completed'],
      [1, 'completed'],
      [2, 'failed'],
      [2, 'failed'],
      [2, 'failed'],
    ]);
    expect(detail.messages.filter((m) => m.turn === 2).every((m) => m.content === null && m.error)).toBe(
      true,
    );
    expect(h.simulator.stats().quotaExhausted).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it('a failing provider opens the circuit breaker, shown by /health/detailed and /statistics; later conversations fail fast', async () => {
    const h = await startHarness({ simulator: { ...fast, faults: { error500: 1 } } });
    harnesses.push(h);
    const first = await call(h.gateway, '/chat', {
      key: admin,
      body: { message: 'Anyone there?', turns: 1 },
    });
    expect(first.status).toBe(502);
    const health = await json<{
      components: { circuitBreaker: { status: string; details: { state: string } } };
    }>(await call(h.gateway, '/health/detailed', { key: admin }));
    expect(health.components.circuitBreaker).toMatchObject({
      status: 'unhealthy',
      details: { state: 'open' },
    });
    const stats = await json<{
      circuit_breakers: { upstream: { state: string } };
      errors: { last_hour: number };
    }>(await call(h.gateway, '/statistics', { key: admin }));
    expect(stats.circuit_breakers.upstream.state).toBe('open');
    expect(stats.errors.last_hour).toBe(3);
    const calls = h.simulator.stats().requests;
    const second = await json<ConversationResult>(
      await call(h.gateway, '/chat', { key: admin, body: { message: 'And now?', turns: 1 } }),
    );
    expect(second.metadata.status).toBe('failed');
    expect(second.metadata.error!.message).toMatch(/circuit|failing/i);
    expect(h.simulator.stats().requests).toBe(calls); // the open breaker kept the calls home
  }, 60_000);
});

describe('conversations across a gateway restart', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-conversations-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const start = () =>
    startHarness({
      simulator: { ...fast, latency: { ttftMs: 150, perTokenMs: 0, jitter: 0 } },
      config: { dataDir },
    });

  it('lists the conversations of before; one cut off by the shutdown is stored failed with what was said, none stays running', async () => {
    const a = await start();
    let id: string;
    let cut: string;
    try {
      const done = await json<ConversationResult>(
        await call(a.gateway, '/chat', { key: admin, body: { message: 'Remember me?', turns: 1 } }),
      );
      id = done.conversation_id;
      cut = `cut-${Date.now()}`;
      await call(a.gateway, `/stream/${cut}`, { key: admin, body: { message: 'Long one', turns: 4 } });
      const w = await watch(a.gateway.url, cut, admin);
      await w.receivedType('consensus_update'); // the first turn is stored
    } finally {
      await a.close();
    }
    const b = await start();
    try {
      const recent = await json<{
        conversations: { conversation_id: string; metadata: { status: string } }[];
      }>(await call(b.gateway, '/conversations/recent?limit=10', { key: admin }));
      expect(recent.conversations.map((c) => c.conversation_id).sort()).toEqual([id, cut].sort());
      expect(recent.conversations.every((c) => c.metadata.status !== 'running')).toBe(true);
      const detail = await json<ConversationDetail>(
        await call(b.gateway, `/conversations/${cut}`, { key: admin }),
      );
      expect(detail.metadata.status).toBe('failed');
      expect(detail.metadata.error!.code).toBe('aborted');
      expect(detail.metadata.turns_completed).toBeGreaterThanOrEqual(1);
      expect(detail.agent_responses.filter((r) => r.turn === 1)).toHaveLength(3);
      // A watcher of a conversation no longer in memory gets it replayed from the database.
      const w = await watch(b.gateway.url, id, admin);
      await w.closed;
      expect(w.messages.map((m) => m.type)).toEqual([
        'started',
        'agent_response',
        'agent_response',
        'agent_response',
        'completed',
      ]);
    } finally {
      await b.close();
    }
  }, 120_000);

  it('ends as failed, at start, a conversation left running by a gateway that died', async () => {
    const a = await start();
    await a.gateway.services.db.query(
      `INSERT INTO conversations (id, owner_id, owner_name, message, status, num_agents, turns, agents, updated_at)
       VALUES ('orphan', 'x', 'x', 'lost', 'running', 3, 2, '[]'::jsonb, now() - interval '1 day')`,
    );
    await a.close();
    const b = await start();
    try {
      const detail = await json<ConversationDetail>(
        await call(b.gateway, '/conversations/orphan', { key: admin }),
      );
      expect(detail.metadata).toMatchObject({ status: 'failed', error: { code: 'interrupted' } });
    } finally {
      await b.close();
    }
  }, 120_000);
});
