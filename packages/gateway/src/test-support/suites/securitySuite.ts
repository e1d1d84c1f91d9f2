import { ManualClock } from '@tollgate/core';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, chatBody, type Harness, startHarness, testKey } from '../harness.js';

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const errorOf = async (res: Response) =>
  ((await res.json()) as { error: { code: string; message: string; param: string | null } }).error;

function hs256(
  claims: Record<string, unknown>,
  options: { secret?: string; expiresIn?: string | number } = {},
) {
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(claims.sub ?? 'svc'));
  jwt.setExpirationTime(options.expiresIn ?? '5m');
  return jwt.sign(new TextEncoder().encode(options.secret ?? SECRET));
}

import type { DatabaseBackend } from '../harness.js';

/** Authentication, abuse and injection tests, on one database backend. */
export function securitySuite(backend: DatabaseBackend): void {
  describe(`gateway security (${backend.name})`, () => {
    let h: Harness;
    const clock = new ManualClock(Date.now());
    beforeAll(async () => {
      h = await startHarness({
        databaseUrl: backend.url(),
        config: {
          jwt: { secret: SECRET },
          ipBlock: { maxFailures: 5, windowMs: 60_000, blockMs: 30_000 },
          bodyLimitBytes: 4_096,
        },
        keys: [
          { name: 'writer', permissions: ['read', 'write'] },
          { name: 'reader', permissions: ['read'] },
        ],
        deps: { clock },
      });
    }, 120_000);
    afterAll(() => h?.close());
    /** Requests from one made-up client address (the gateway trusts no proxy: it ignores this). */
    let spoofed = 0;
    const from = () => ({ 'x-forwarded-for': `203.0.113.${++spoofed % 250}` });
    /** Past any block and failure window: the next test starts with a clean record. */
    const unblock = () => clock.advance(61_000);

    it('refuses a request without a key, with a wrong key, and a key without the permission; none of them forwarded', async () => {
      const before = h.simulator.stats().requests;
      const none = await call(h.gateway, '/v1/chat/completions', { body: chatBody() });
      expect(none.status).toBe(401);
      expect((await errorOf(none)).code).toBe('missing_api_key');
      const wrong = await call(h.gateway, '/v1/chat/completions', {
        key: `${testKey('writer')}z`,
        body: chatBody(),
      });
      expect(wrong.status).toBe(401);
      const wrongText = JSON.stringify(await errorOf(wrong));
      expect(wrongText).toContain('invalid_api_key');
      expect(wrongText).not.toContain(testKey('writer'));
      const reader = await call(h.gateway, '/admin/keys', { key: testKey('reader') });
      expect(reader.status).toBe(403);
      expect(h.simulator.stats().requests).toBe(before);
      unblock();
    });

    it('accepts a valid JWT with its permissions and refuses forged, expired, unsigned and permission-less ones', async () => {
      const good = await hs256({ sub: 'svc-a', permissions: ['write'], limits: { maxRequestsPerMinute: 2 } });
      expect((await call(h.gateway, '/v1/chat/completions', { key: good, body: chatBody() })).status).toBe(
        200,
      );
      expect((await call(h.gateway, '/v1/models', { key: good })).status).toBe(403); // no `read`
      const forged = await hs256(
        { sub: 'svc-a', permissions: ['admin'] },
        { secret: 'another-secret-of-at-least-32-chars!!' },
      );
      const expired = await hs256(
        { sub: 'svc-a', permissions: ['write'] },
        { expiresIn: Math.floor(Date.now() / 1000) - 60 },
      );
      const [header, payload] = good.split('.');
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
      const tampered = `${header}.${Buffer.from(JSON.stringify({ sub: 'svc-a', permissions: ['admin'], exp: 9e9 })).toString('base64url')}.${good.split('.')[2]}`;
      for (const token of [forged, expired, unsigned, tampered]) {
        const res = await call(h.gateway, '/admin/keys', { key: token, headers: {} });
        expect(res.status).toBe(401);
      }
      unblock(); // five failures in a row block the address: see the blocking test
      const noPermissions = await hs256({ sub: 'svc-b' });
      expect((await call(h.gateway, '/v1/models', { key: noPermissions })).status).toBe(401);
      unblock();
    });

    it('answers wrong keys in the same time however much of a real key they match', async () => {
      const real = testKey('writer');
      const auth = h.gateway.services.authenticator;
      const near = `${real.slice(0, -1)}${real.endsWith('a') ? 'b' : 'a'}`; // all but the last character
      const far = `${real.endsWith('a') ? 'b' : 'a'}${real.slice(1)}`; // differs at the first
      const time = async (key: string) => {
        const started = process.hrtime.bigint();
        await auth.authenticate(`Bearer ${key}`).catch(() => undefined);
        return Number(process.hrtime.bigint() - started);
      };
      for (let i = 0; i < 20; i++) await time(far); // warm up
      // Pairs measured back to back, in alternating order: load on the machine hits both
      // alike. With no leak, the near guess is the slower of its pair about half the time
      // (binomial, n = 400: 0.5 +- 0.025); a measurable difference pushes it towards 0 or 1.
      let nearSlower = 0;
      const pairs = 400;
      for (let i = 0; i < pairs; i++) {
        let nearTime: number;
        let farTime: number;
        if (i % 2 === 0) {
          nearTime = await time(near);
          farTime = await time(far);
        } else {
          farTime = await time(far);
          nearTime = await time(near);
        }
        if (nearTime > farTime) nearSlower++;
      }
      expect(nearSlower / pairs).toBeGreaterThan(0.35);
      expect(nearSlower / pairs).toBeLessThan(0.65);
    });

    it('refuses oversized and malformed bodies with 413 and 400s that name the field', async () => {
      const key = testKey('writer');
      const big = await call(h.gateway, '/v1/chat/completions', { key, body: chatBody('x'.repeat(5_000)) });
      expect(big.status).toBe(413);
      const notJson = await call(h.gateway, '/v1/chat/completions', {
        key,
        body: '{"model": "sim-small", "messages": [',
      });
      expect(notJson.status).toBe(400);
      expect((await errorOf(notJson)).code).toBe('invalid_json');
      const cases: [unknown, string][] = [
        [{ messages: [{ role: 'user', content: 'hi' }] }, 'model'],
        [{ model: 'sim-small', messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
        [{ model: 'sim-small', messages: [{ role: 'user', content: 'hi' }], max_tokens: '12' }, 'max_tokens'],
        [{ model: 'sim-small', messages: 'hi' }, 'messages'],
      ];
      for (const [body, field] of cases) {
        const res = await call(h.gateway, '/v1/chat/completions', { key, body });
        expect(res.status).toBe(400);
        const error = await errorOf(res);
        expect(error.param).toBe(field);
        expect(error.message).toContain(`\`${field}\``);
      }
    });

    it('blocks an address after N failed authentications, whatever X-Forwarded-For it claims, until the block expires', async () => {
      unblock();
      for (let i = 0; i < 5; i++) {
        const res = await call(h.gateway, '/v1/models', {
          key: 'tg-wrong-key-000000000000',
          headers: from(),
        });
        expect(res.status).toBe(401);
      }
      const blocked = await call(h.gateway, '/v1/models', { key: testKey('reader'), headers: from() });
      expect(blocked.status).toBe(429);
      expect((await errorOf(blocked)).code).toBe('ip_blocked');
      expect(Number(blocked.headers.get('retry-after'))).toBe(30);
      clock.advance(29_000);
      expect((await call(h.gateway, '/v1/models', { key: testKey('reader') })).status).toBe(429);
      clock.advance(1_001);
      expect((await call(h.gateway, '/v1/models', { key: testKey('reader') })).status).toBe(200);
    });

    it('stores and answers SQL injection strings as plain text in every field that reaches the database', async () => {
      unblock();
      const admin = testKey('admin');
      const evil = [
        "x'); DROP TABLE api_keys; --",
        "' OR '1'='1",
        'Robert"); DELETE FROM key_usage; --',
        "\\x00'; SELECT pg_sleep(5); --",
      ];
      for (const name of evil) {
        const res = await call(h.gateway, '/admin/keys', {
          key: admin,
          body: { name, permissions: ['write'] },
        });
        expect(res.status).toBe(201);
        const { id, key } = (await res.json()) as { id: string; key: string };
        expect(
          (await (await call(h.gateway, `/admin/keys/${id}`, { key: admin })).json()) as object,
        ).toMatchObject({ name });
        expect((await call(h.gateway, '/v1/chat/completions', { key, body: chatBody(name) })).status).toBe(
          200,
        );
        const byId = await call(h.gateway, `/admin/keys/${encodeURIComponent(name)}`, { key: admin });
        expect(byId.status).toBe(404);
        const jwt = await hs256({ sub: name, permissions: ['write'] });
        expect((await call(h.gateway, '/v1/chat/completions', { key: jwt, body: chatBody() })).status).toBe(
          200,
        );
      }
      await h.gateway.services.usage.flush();
      const names = (
        (await (await call(h.gateway, '/admin/keys', { key: admin })).json()) as { data: { name: string }[] }
      ).data.map((k) => k.name);
      expect(names).toEqual(expect.arrayContaining([...evil, 'writer', 'reader', 'admin']));
      for (const name of evil) expect((await h.gateway.services.keys.usage(`jwt:${name}`)).requests).toBe(1);
    });
  });

  describe(`gateway security: RS256 tokens and a trusted proxy (${backend.name})`, () => {
    let h: Harness;
    let sign: (claims: Record<string, unknown>) => Promise<string>;
    let publicPem: string;
    beforeAll(async () => {
      const { publicKey, privateKey } = await generateKeyPair('RS256');
      sign = (claims) =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'RS256' })
          .setSubject('rs')
          .setExpirationTime('5m')
          .sign(privateKey);
      publicPem = await exportSPKI(publicKey);
      h = await startHarness({
        databaseUrl: backend.url(),
        config: {
          jwt: { publicKey: publicPem, audience: 'tollgate' },
          trustedProxies: ['127.0.0.1'],
          ipBlock: { maxFailures: 2, windowMs: 60_000, blockMs: 60_000 },
        },
      });
    }, 120_000);
    afterAll(() => h?.close());

    it('accepts RS256 tokens for its audience only, and an HS256 token signed with the public key is refused', async () => {
      const good = await sign({ permissions: ['read'], aud: 'tollgate' });
      expect(
        (await call(h.gateway, '/v1/models', { key: good, headers: { 'x-forwarded-for': '198.51.100.1' } }))
          .status,
      ).toBe(200);
      const otherAudience = await sign({ permissions: ['read'], aud: 'elsewhere' });
      expect(
        (
          await call(h.gateway, '/v1/models', {
            key: otherAudience,
            headers: { 'x-forwarded-for': '198.51.100.2' },
          })
        ).status,
      ).toBe(401);
    });

    it('behind a trusted proxy, counts failures per forwarded client address', async () => {
      for (let i = 0; i < 2; i++)
        await call(h.gateway, '/v1/models', {
          key: 'tg-wrong-key-000000000000',
          headers: { 'x-forwarded-for': '198.51.100.7' },
        });
      const good = await sign({ permissions: ['read'], aud: 'tollgate' });
      expect(
        (await call(h.gateway, '/v1/models', { key: good, headers: { 'x-forwarded-for': '198.51.100.7' } }))
          .status,
      ).toBe(429);
      expect(
        (await call(h.gateway, '/v1/models', { key: good, headers: { 'x-forwarded-for': '198.51.100.8' } }))
          .status,
      ).toBe(200);
    });
  });
}
