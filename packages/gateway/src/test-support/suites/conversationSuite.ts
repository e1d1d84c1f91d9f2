// POST /chat, streaming, listing, search, statistics and admin of conversations, on one database backend.
import { costOf, normalizeAnswer, tallyVotes, type Vote } from '@tollgate/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationDetail } from '../../conversations/ConversationStore.js';
import type { ConversationResult, StreamMessage } from '../../conversations/messages.js';
import { call, type DatabaseBackend, type Harness, startHarness, testKey } from '../harness.js';
import { watch } from '../wsClient.js';

const AGENTS = [
  { agent_id: 'analyst', model: 'gpt-4o-mini', temperature: 0.2, personality: 'analytical' },
  { agent_id: 'artist', model: 'gpt-4o-mini', temperature: 1.1, personality: 'creative' },
  { agent_id: 'critic', model: 'gpt-4o', temperature: 0.6, personality: 'critical' },
];

const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

/** What `Consensus` decides on votes (its default tie-break, with no confidences: the first). */
function consensusOf(answers: readonly { agent_id: string; answer: string | null }[]): string | undefined {
  const votes = answers.map((a) => {
    const normalized = a.answer === null ? undefined : normalizeAnswer(a.answer);
    return {
      agentId: a.agent_id,
      answer: a.answer ?? undefined,
      normalized: normalized || undefined,
    } as Vote;
  });
  return tallyVotes(votes)[0]?.answer;
}

export function conversationSuite(backend: DatabaseBackend): void {
  describe(`conversations over HTTP and WebSocket (${backend.name})`, () => {
    let h: Harness;
    const alice = testKey('alice');
    const bob = testKey('bob');
    const admin = testKey('admin');
    beforeAll(async () => {
      h = await startHarness({
        databaseUrl: backend.url(),
        simulator: { latency: { ttftMs: 40, perTokenMs: 0, jitter: 0 }, completionTokens: [8, 24] },
        config: { conversations: { agents: AGENTS, maxTokens: 32 } },
        keys: [
          { name: 'alice', permissions: ['read', 'write'] },
          { name: 'bob', permissions: ['read', 'write'] },
          { name: 'reader', permissions: ['read'] },
        ],
      });
    }, 120_000);
    afterAll(() => h?.close());

    let chat: ConversationResult;
    it('POST /chat runs 3 agents x 2 turns: the documented shape, Consensus on the last votes, usage and cost of the calls', async () => {
      const before = h.simulator.stats();
      const res = await call(h.gateway, '/chat', {
        key: alice,
        body: { message: 'How should a team share one provider quota?', num_agents: 3, turns: 2 },
      });
      expect(res.status).toBe(200);
      chat = await json<ConversationResult>(res);
      const after = h.simulator.stats();
      expect(chat.metadata).toMatchObject({
        status: 'completed',
        turns_completed: 2,
        num_agents: 3,
        turns: 2,
      });
      expect(chat.agent_responses.map((r) => [r.agent_id, r.turn])).toEqual([
        ['analyst', 1],
        ['artist', 1],
        ['critic', 1],
        ['analyst', 2],
        ['artist', 2],
        ['critic', 2],
      ]);
      for (const r of chat.agent_responses) {
        expect(r.response.length).toBeGreaterThan(0);
        const profile = AGENTS.find((a) => a.agent_id === r.agent_id)!;
        expect(r).toMatchObject({ model: profile.model, temperature: profile.temperature });
      }
      const last = chat.agent_responses.filter((r) => r.turn === 2);
      expect(chat.consensus_result).toBe(
        consensusOf(last.map((r) => ({ agent_id: r.agent_id, answer: r.response }))),
      );
      expect(chat.confidence).toBeGreaterThan(0);
      expect(chat.confidence).toBeLessThanOrEqual(1);
      // Six calls reached the provider; their tokens are the conversation's.
      expect(after.admitted - before.admitted).toBe(6);
      const u = chat.metadata.usage;
      expect(u.prompt_tokens).toBe(after.tokens.prompt - before.tokens.prompt);
      expect(u.completion_tokens).toBe(after.tokens.completion - before.tokens.completion);
      expect(u.total_tokens).toBe(u.prompt_tokens + u.completion_tokens);
      const detail = await json<ConversationDetail>(
        await call(h.gateway, `/conversations/${chat.conversation_id}`, { key: alice }),
      );
      const cost = detail.messages.reduce(
        (sum, m) =>
          sum +
          costOf(m.model, {
            promptTokens: m.tokens.prompt_tokens,
            completionTokens: m.tokens.completion_tokens,
            totalTokens: m.tokens.total_tokens,
          }),
        0,
      );
      expect(chat.metadata.cost).toBeGreaterThan(0);
      expect(chat.metadata.cost).toBeCloseTo(cost, 12);
      expect(detail.messages.reduce((s, m) => s + m.tokens.prompt_tokens, 0)).toBe(u.prompt_tokens);
    });

    it("the second turn shows each agent the others' first answers", async () => {
      const detail = await json<ConversationDetail>(
        await call(h.gateway, `/conversations/${chat.conversation_id}`, { key: alice }),
      );
      const prompt = (turn: number, agent: string) =>
        detail.messages.find((m) => m.turn === turn && m.agent_id === agent)!.tokens.prompt_tokens;
      // A second-turn prompt carries the first turn's answers: it is longer than the first.
      for (const a of AGENTS) expect(prompt(2, a.agent_id)).toBeGreaterThan(prompt(1, a.agent_id) + 10);
      expect(detail.votes.filter((v) => v.turn === 2).map((v) => v.agent_id)).toEqual([
        'analyst',
        'artist',
        'critic',
      ]);
    });

    it('streams a conversation to two watchers, one joining late: every response and the consensus, in order, as stored', async () => {
      const id = `stream-${Date.now()}`;
      const started = await call(h.gateway, `/stream/${id}`, {
        key: alice,
        body: { message: 'Which window algorithm suits bursts?', turns: 2 },
      });
      expect(started.status).toBe(200);
      expect(await started.json()).toEqual({
        conversation_id: id,
        status: 'started',
        websocket_url: `/ws/${id}`,
      });
      const early = await watch(h.gateway.url, id, alice);
      await early.receivedType('agent_response'); // the first answer is in
      const late = await watch(h.gateway.url, id, admin);
      await Promise.all([early.closed, late.closed]);
      // Pieces of answers are live only: a late watcher gets the answers whole.
      const tokens = early.messages.filter((m) => m.type === 'agent_token');
      const kept = early.messages.filter((m) => m.type !== 'agent_token');
      expect(late.messages.filter((m) => m.type === 'agent_token').length).toBeLessThanOrEqual(tokens.length);
      expect(late.messages.filter((m) => m.type !== 'agent_token')).toEqual(kept);
      const types = kept.map((m) => m.type);
      expect(types).toEqual([
        'started',
        'agent_response',
        'agent_response',
        'agent_response',
        'consensus_update',
        'agent_response',
        'agent_response',
        'agent_response',
        'consensus_update',
        'completed',
      ]);
      expect(kept.map((m) => m.seq)).toEqual(types.map((_, i) => i + 1));
      const detail = await json<ConversationDetail>(
        await call(h.gateway, `/conversations/${id}`, { key: alice }),
      );
      const streamed = early.messages.filter(
        (m): m is Extract<StreamMessage, { type: 'agent_response' }> => m.type === 'agent_response',
      );
      // Within a turn answers stream as they arrive; compare each turn's answers by agent.
      const byTurnAndAgent = (x: { turn: number; agent_id: string }, y: { turn: number; agent_id: string }) =>
        x.turn - y.turn || x.agent_id.localeCompare(y.agent_id);
      expect(
        [...streamed].sort(byTurnAndAgent).map((m) => [m.turn, m.agent_id, m.content, m.tokens, m.cost]),
      ).toEqual(
        [...detail.messages]
          .sort(byTurnAndAgent)
          .map((m) => [m.turn, m.agent_id, m.content, m.tokens, m.cost]),
      );
      // The early watcher saw the second turn's answers arrive piece by piece, each before its whole.
      for (const answer of streamed.filter((m) => m.turn === 2)) {
        const pieces = early.messages.filter(
          (m): m is Extract<StreamMessage, { type: 'agent_token' }> =>
            m.type === 'agent_token' && m.turn === 2 && m.agent_id === answer.agent_id,
        );
        expect(pieces.length).toBeGreaterThan(1);
        expect(pieces.map((p) => p.delta).join('')).toBe(answer.content);
        expect(early.messages.indexOf(pieces.at(-1)!)).toBeLessThan(early.messages.indexOf(answer));
      }
      const updates = early.messages.filter(
        (m): m is Extract<StreamMessage, { type: 'consensus_update' }> => m.type === 'consensus_update',
      );
      expect(updates.at(-1)!.consensus).toBe(detail.consensus_result);
      expect(updates.at(-1)!.confidence).toBe(detail.confidence);
      const end = kept.at(-1) as Extract<StreamMessage, { type: 'completed' }>;
      expect(end.result).toEqual({
        conversation_id: detail.conversation_id,
        agent_responses: detail.agent_responses,
        consensus_result: detail.consensus_result,
        confidence: detail.confidence,
        metadata: detail.metadata,
      });
      for (const m of kept) expect(Number.isNaN(Date.parse(m.timestamp))).toBe(false);
    });

    it('a watcher that disconnects at once does not stop the conversation', async () => {
      const id = `leave-${Date.now()}`;
      await call(h.gateway, `/stream/${id}`, { key: bob, body: { message: 'Leave early?', turns: 2 } });
      const w = await watch(h.gateway.url, id, bob);
      await w.received(1);
      w.close();
      await w.closed;
      const late = await watch(h.gateway.url, id, bob);
      await late.closed;
      expect(late.messages.at(-1)!.type).toBe('completed');
      const detail = await json<ConversationDetail>(
        await call(h.gateway, `/conversations/${id}`, { key: bob }),
      );
      expect(detail.metadata).toMatchObject({ status: 'completed', turns_completed: 2 });
      expect(detail.messages).toHaveLength(6);
    });

    it("refuses a WebSocket without a valid key, and a key that is not the owner's", async () => {
      await expect(watch(h.gateway.url, chat.conversation_id, undefined)).rejects.toMatchObject({
        status: 401,
      });
      await expect(
        watch(h.gateway.url, chat.conversation_id, 'tg-test-wrongwrongwrongx'),
      ).rejects.toMatchObject({
        status: 401,
      });
      await expect(watch(h.gateway.url, chat.conversation_id, bob)).rejects.toMatchObject({ status: 404 });
    });

    it("one key cannot read another key's conversations; admin can; lists are each key's own", async () => {
      const id = chat.conversation_id;
      expect((await call(h.gateway, `/conversations/${id}`, { key: bob })).status).toBe(404);
      expect((await call(h.gateway, `/conversations/${id}`, { key: testKey('reader') })).status).toBe(404);
      expect((await call(h.gateway, `/conversations/${id}`, { key: admin })).status).toBe(200);
      expect((await call(h.gateway, `/conversations/${id}`)).status).toBe(401);
      const ids = async (key: string) =>
        (
          await json<{ conversations: { conversation_id: string; owner: string }[] }>(
            await call(h.gateway, '/conversations/recent?limit=50', { key }),
          )
        ).conversations;
      const bobs = await ids(bob);
      expect(bobs.length).toBeGreaterThan(0);
      expect(bobs.every((c) => c.owner === 'bob')).toBe(true);
      const all = await ids(admin);
      expect(all.map((c) => c.conversation_id)).toContain(id);
      expect(all.map((c) => c.conversation_id)).toEqual(
        expect.arrayContaining(bobs.map((c) => c.conversation_id)),
      );
      expect(
        (await call(h.gateway, '/chat', { key: testKey('reader'), body: { message: 'hi' } })).status,
      ).toBe(403);
      expect((await call(h.gateway, '/admin/cleanup?days=1', { method: 'POST', key: alice })).status).toBe(
        403,
      );
      expect((await call(h.gateway, '/admin/export?days=1', { key: alice })).status).toBe(403);
    });

    it('recent lists newest first, at most `limit`', async () => {
      const res = await json<{ conversations: { conversation_id: string; created_at: string }[] }>(
        await call(h.gateway, '/conversations/recent?limit=2', { key: admin }),
      );
      expect(res.conversations).toHaveLength(2);
      expect(Date.parse(res.conversations[0]!.created_at)).toBeGreaterThanOrEqual(
        Date.parse(res.conversations[1]!.created_at),
      );
    });

    it("search finds conversations by words of their messages, only the caller's, and cannot be injected", async () => {
      const word = chat.agent_responses[0]!.response.split(' ')
        .find((w) => w.length > 6)!
        .toLowerCase();
      const found = await json<{ results: { conversation_id: string; snippet: string }[] }>(
        await call(h.gateway, '/conversations/search', { key: alice, body: { query: word } }),
      );
      expect(found.results.map((r) => r.conversation_id)).toContain(chat.conversation_id);
      expect(
        found.results.find((r) => r.conversation_id === chat.conversation_id)!.snippet.toLowerCase(),
      ).toContain(word.slice(0, 4));
      const none = await json<{ results: unknown[] }>(
        await call(h.gateway, '/conversations/search', { key: alice, body: { query: 'xylophone zebra' } }),
      );
      expect(none.results).toEqual([]);
      const bobs = await json<{ results: { conversation_id: string }[] }>(
        await call(h.gateway, '/conversations/search', { key: bob, body: { query: word } }),
      );
      expect(bobs.results.map((r) => r.conversation_id)).not.toContain(chat.conversation_id);
      for (const query of [
        "'; DROP TABLE conversations; --",
        "quota') OR 1=1 --",
        '!!! & | :* <->',
        "\\' OR ''='",
      ]) {
        const res = await call(h.gateway, '/conversations/search', { key: alice, body: { query } });
        expect(res.status).toBe(200);
        const body = await json<{ results: { conversation_id: string }[] }>(res);
        expect(body.results.every((r) => r.conversation_id !== undefined)).toBe(true);
      }
      const bad = await call(h.gateway, '/conversations/search', { key: alice, body: { query: 'a\u0000b' } });
      expect(bad.status).toBe(400);
      expect((await call(h.gateway, `/conversations/${chat.conversation_id}`, { key: alice })).status).toBe(
        200,
      );
    });

    it('rejects bad bodies with a 400 naming the field, and a taken id with 409', async () => {
      const missing = await call(h.gateway, '/chat', { key: alice, body: { turns: 2 } });
      expect(missing.status).toBe(400);
      expect(((await missing.json()) as { error: { param: string } }).error.param).toBe('message');
      const tooMany = await call(h.gateway, '/chat', { key: alice, body: { message: 'x', num_agents: 20 } });
      expect(tooMany.status).toBe(400);
      expect(((await tooMany.json()) as { error: { param: string } }).error.param).toBe('num_agents');
      const temp = await call(h.gateway, '/chat', {
        key: alice,
        body: { message: 'x', agents: [{ model: 'm', temperature: 3, personality: 'p' }] },
      });
      expect(((await temp.json()) as { error: { param: string } }).error.param).toBe('agents[0].temperature');
      const twins = await call(h.gateway, '/chat', {
        key: alice,
        body: { message: 'x', agents: [AGENTS[0], AGENTS[0]] },
      });
      expect(twins.status).toBe(400);
      expect(((await twins.json()) as { error: { param: string } }).error.param).toBe('agents');
      const taken = await call(h.gateway, `/stream/${chat.conversation_id}`, {
        key: alice,
        body: { message: 'again' },
      });
      expect(taken.status).toBe(409);
    });

    it('statistics count the conversations, messages per model and the breaker state', async () => {
      const stats = await json<{
        scope: string;
        conversations: { total: number; today: number; success_rate: number; average_duration: number };
        agents: {
          total_messages: number;
          messages_per_model: Record<string, number>;
          average_response_time: number;
        };
        circuit_breakers: { upstream: { state: string } };
        quota: { provider: { remaining: Record<string, number> } };
      }>(await call(h.gateway, '/statistics', { key: alice }));
      expect(stats.scope).toBe('own');
      expect(stats.conversations.total).toBe(2);
      expect(stats.conversations.today).toBe(2);
      expect(stats.conversations.success_rate).toBe(1);
      expect(stats.conversations.average_duration).toBeGreaterThan(0);
      expect(stats.agents.total_messages).toBe(12);
      expect(stats.agents.messages_per_model).toEqual({ 'gpt-4o': 4, 'gpt-4o-mini': 8 });
      expect(stats.circuit_breakers.upstream.state).toBe('closed');
      expect(Object.keys(stats.quota.provider.remaining).length).toBeGreaterThan(0);
      const all = await json<{ scope: string; conversations: { total: number } }>(
        await call(h.gateway, '/statistics', { key: admin }),
      );
      expect(all.scope).toBe('all');
      expect(all.conversations.total).toBe(3);
    });

    it('export round-trips what GET /conversations/{id} answers; cleanup removes only what is older than the threshold', async () => {
      const exported = await json<{ format: string; count: number; conversations: ConversationDetail[] }>(
        await call(h.gateway, '/admin/export?days=7&format=json', { key: admin }),
      );
      expect(exported.format).toBe('json');
      expect(exported.count).toBe(3);
      for (const c of exported.conversations) {
        const one = await json<ConversationDetail>(
          await call(h.gateway, `/conversations/${c.conversation_id}`, { key: admin }),
        );
        expect(JSON.parse(JSON.stringify(c))).toEqual(one);
      }
      // Age one conversation by 40 days; cleanup at 30 removes it alone.
      await h.gateway.services.db.query(
        "UPDATE conversations SET created_at = now() - interval '40 days' WHERE id = $1",
        [chat.conversation_id],
      );
      const cleanup = await json<{
        cleanup_results: { conversations: number; messages: number; votes: number };
        days_threshold: number;
      }>(await call(h.gateway, '/admin/cleanup?days=30', { method: 'POST', key: admin }));
      expect(cleanup).toEqual({
        cleanup_results: { conversations: 1, messages: 6, votes: 6 },
        days_threshold: 30,
      });
      expect((await call(h.gateway, `/conversations/${chat.conversation_id}`, { key: admin })).status).toBe(
        404,
      );
      const left = await json<{ count: number }>(
        await call(h.gateway, '/admin/export?days=7', { key: admin }),
      );
      expect(left.count).toBe(2);
      const again = await json<{ cleanup_results: { conversations: number } }>(
        await call(h.gateway, '/admin/cleanup?days=30', { method: 'POST', key: admin }),
      );
      expect(again.cleanup_results.conversations).toBe(0);
    });
  });
}
