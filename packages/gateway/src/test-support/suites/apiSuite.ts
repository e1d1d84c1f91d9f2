import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseBackend } from '../harness.js';
import { call, chatBody, type Harness, startHarness, testKey } from '../harness.js';

/** The OpenAI API, keys, admin and health over HTTP, on one database backend. */
export function apiSuite(backend: DatabaseBackend): void {
  describe(`gateway: OpenAI API, keys and admin over HTTP (${backend.name})`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({
        databaseUrl: backend.url(),
        keys: [
          { name: 'writer', permissions: ['read', 'write'] },
          { name: 'reader', permissions: ['read'] },
        ],
      });
    }, 120_000);
    afterAll(() => h?.close());

    it("forwards a chat completion and answers with the provider reply, usage and this key's rate-limit headers", async () => {
      const res = await call(h.gateway, '/v1/chat/completions', { key: testKey('writer'), body: chatBody() });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        choices: { message: { content: string } }[];
        usage: { total_tokens: number };
      };
      expect(body.choices[0]!.message.content.length).toBeGreaterThan(0);
      expect(body.usage.total_tokens).toBeGreaterThan(0);
      expect(res.headers.get('x-ratelimit-limit-requests')).toBe('60');
      expect(Number(res.headers.get('x-ratelimit-remaining-requests'))).toBeLessThan(60);
    });

    it('passes an SSE stream through and settles it', async () => {
      const res = await call(h.gateway, '/v1/chat/completions', {
        key: testKey('writer'),
        body: chatBody('stream please', { stream: true, stream_options: { include_usage: true } }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const text = await res.text();
      expect(text).toContain('data: [DONE]');
      expect(text).toMatch(/"usage":\{"prompt_tokens":\d+/);
    });

    it('lists the models for a read key, and refuses it chat (403 naming the permission)', async () => {
      const models = await call(h.gateway, '/v1/models', { key: testKey('reader') });
      expect(models.status).toBe(200);
      expect(((await models.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);
      const chat = await call(h.gateway, '/v1/chat/completions', {
        key: testKey('reader'),
        body: chatBody(),
      });
      expect(chat.status).toBe(403);
      expect(((await chat.json()) as { error: { code: string; message: string } }).error).toMatchObject({
        code: 'permission_denied',
        message: expect.stringContaining('`write`'),
      });
    });

    it('creates, lists, rotates and revokes keys; the key appears only when issued', async () => {
      const admin = testKey('admin');
      const created = await call(h.gateway, '/admin/keys', {
        key: admin,
        body: { name: 'svc', permissions: ['write'], limits: { maxRequestsPerMinute: 5 } },
      });
      expect(created.status).toBe(201);
      const { id, key } = (await created.json()) as { id: string; key: string };
      expect(key).toMatch(/^tg-/);
      expect((await call(h.gateway, '/v1/chat/completions', { key, body: chatBody() })).status).toBe(200);
      const listText = await (await call(h.gateway, '/admin/keys', { key: admin })).text();
      expect(listText).not.toContain(key);
      const listed = (JSON.parse(listText) as { data: { id: string; usage: { requests: number } }[] }).data;
      expect(listed.find((k) => k.id === id)?.usage.requests).toBe(1);

      const rotated = (await (
        await call(h.gateway, `/admin/keys/${id}/rotate`, { key: admin, method: 'POST' })
      ).json()) as {
        key: string;
      };
      expect(rotated.key).not.toBe(key);
      expect((await call(h.gateway, '/v1/chat/completions', { key, body: chatBody() })).status).toBe(401);
      expect(
        (await call(h.gateway, '/v1/chat/completions', { key: rotated.key, body: chatBody() })).status,
      ).toBe(200);

      expect((await call(h.gateway, `/admin/keys/${id}`, { key: admin, method: 'DELETE' })).status).toBe(200);
      const revoked = await call(h.gateway, '/v1/chat/completions', { key: rotated.key, body: chatBody() });
      expect(revoked.status).toBe(401);
      expect(await revoked.text()).not.toContain(rotated.key);
    });

    it('answers /health to anyone and /health/detailed to admins only, every component named', async () => {
      expect(await (await call(h.gateway, '/health')).json()).toEqual({ status: 'ok' });
      expect((await call(h.gateway, '/health/detailed', { key: testKey('writer') })).status).toBe(403);
      const detailed = await call(h.gateway, '/health/detailed', { key: testKey('admin') });
      expect(detailed.status).toBe(200);
      const health = (await detailed.json()) as {
        status: string;
        components: Record<string, { status: string }>;
      };
      expect(health.status).toBe('healthy');
      expect(Object.keys(health.components).sort()).toEqual([
        'circuitBreaker',
        'database',
        'governors',
        'quotaStore',
        'upstream',
      ]);
    });
  });
}
