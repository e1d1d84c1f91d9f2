import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configFailure as failure } from '../test-support/configFailure.js';
import { loadGatewayConfig } from './loadGatewayConfig.js';

const dir = mkdtempSync(join(tmpdir(), 'tollgate-gateway-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('loadGatewayConfig', () => {
  it('reads the Anthropic and Gemini upstreams from flags, env and the file, naming a bad one', () => {
    const config = file(
      'providers.yaml',
      'anthropic:\n  limits: { maxRequestsPerMinute: 50, maxOutputTokensPerMinute: 8000 }\ngemini:\n  baseUrl: http://127.0.0.1:3/\n',
    );
    const loaded = loadGatewayConfig({
      argv: ['--gemini-base-url', 'http://127.0.0.1:4/'],
      env: {
        GATEWAY_CONFIG: config,
        ANTHROPIC_UPSTREAM_BASE_URL: 'http://127.0.0.1:2/',
        ANTHROPIC_UPSTREAM_API_KEY: 'sk-ant',
        GEMINI_UPSTREAM_API_KEY: 'gm-key',
      },
    });
    expect(loaded.anthropic).toEqual({
      baseUrl: 'http://127.0.0.1:2/',
      apiKey: 'sk-ant',
      limits: { maxRequestsPerMinute: 50, maxOutputTokensPerMinute: 8000 },
    });
    expect(loaded.gemini).toMatchObject({ baseUrl: 'http://127.0.0.1:4/', apiKey: 'gm-key' });
    expect(failure(() => loadGatewayConfig({ env: { GEMINI_UPSTREAM_BASE_URL: 'ftp://x' } })).setting).toBe(
      'GEMINI_UPSTREAM_BASE_URL',
    );
    expect(failure(() => loadGatewayConfig({ env: { ANTHROPIC_UPSTREAM_API_KEY: ' ' } })).setting).toBe(
      'ANTHROPIC_UPSTREAM_API_KEY',
    );
    const bad = file('bad.json', JSON.stringify({ anthropic: { charging: 'later' } }));
    expect(failure(() => loadGatewayConfig({ env: { GATEWAY_CONFIG: bad } })).setting).toBe(
      'GATEWAY_CONFIG:anthropic.charging',
    );
  });

  it('reads flags over env over the file', () => {
    const config = file(
      'a.json',
      JSON.stringify({ port: 9000, host: '0.0.0.0', defaultLimits: { max_requests_per_minute: 5 } }),
    );
    const loaded = loadGatewayConfig({
      argv: ['--port', '9100'],
      env: {
        GATEWAY_CONFIG: config,
        GATEWAY_PORT: '9050',
        UPSTREAM_BASE_URL: 'http://127.0.0.1:1/v1',
        UPSTREAM_API_KEY: 'sk-up',
        REDIS_URL: 'redis://127.0.0.1:6379',
      },
    });
    expect(loaded).toMatchObject({
      port: 9100,
      host: '0.0.0.0',
      upstream: { baseUrl: 'http://127.0.0.1:1/v1', apiKey: 'sk-up' },
      redisUrl: 'redis://127.0.0.1:6379',
      defaultLimits: { max_requests_per_minute: 5 },
    });
  });

  it('reads YAML with keys, permissions and limits', () => {
    const config = file(
      'b.yaml',
      'keys:\n  - name: team-a\n    key: tg-team-a-0123456789abcdef\n    permissions: [read, write]\n    limits:\n      maxRequestsPerMinute: 30\n',
    );
    expect(loadGatewayConfig({ env: { GATEWAY_CONFIG: config } }).keys).toEqual([
      {
        name: 'team-a',
        key: 'tg-team-a-0123456789abcdef',
        keyHash: undefined,
        permissions: ['read', 'write'],
        limits: { maxRequestsPerMinute: 30 },
      },
    ]);
  });

  it('names the flag, variable or file field at fault', () => {
    expect(failure(() => loadGatewayConfig({ env: { GATEWAY_PORT: 'eighty' } })).setting).toBe(
      'GATEWAY_PORT',
    );
    expect(failure(() => loadGatewayConfig({ argv: ['--port', '70000'] })).message).toBe(
      'Invalid gateway setting `--port`: expected an integer from 0 to 65535, got "70000"',
    );
    expect(failure(() => loadGatewayConfig({ argv: ['--prot', '1'] })).setting).toBe('--prot');
    expect(failure(() => loadGatewayConfig({ env: { UPSTREAM_BASE_URL: 'ftp://example' } })).setting).toBe(
      'UPSTREAM_BASE_URL',
    );
    expect(failure(() => loadGatewayConfig({ env: { DATABASE_URL: 'mysql://x' } })).setting).toBe(
      'DATABASE_URL',
    );
    expect(
      failure(() => loadGatewayConfig({ env: { GATEWAY_CONFIG: join(dir, 'missing.json') } })).setting,
    ).toBe('GATEWAY_CONFIG');
    const cases: [object, string][] = [
      [
        {
          keys: [
            { name: 'a', key: 'tg-0123456789abcdef' },
            { name: 'b', key: 'tg-0123456789abcdef', permissions: ['root'] },
          ],
        },
        'keys[1].permissions',
      ],
      [{ keys: [{ name: 'a' }] }, 'keys[0]'],
      [{ defaultLimits: { maxRequestsPerMinute: -1 } }, 'defaultLimits.maxRequestsPerMinute'],
      [{ upstream: { limits: { maxTokensPerMinut: 5 } } }, 'upstream.limits.maxTokensPerMinut'],
      [{ ipBlock: { maxFailures: 0 } }, 'ipBlock.maxFailures'],
      [{ jwt: { secret: 'short' } }, 'jwt.secret'],
      [{ upstream: { transport: 'curl' } }, 'upstream.transport'],
      [{ gemini: { maxAttempts: 0 } }, 'gemini.maxAttempts'],
      [{ conversations: { turns: 0 } }, 'conversations.turns'],
      [{ conversations: { streamTokens: 'sometimes' } }, 'conversations.streamTokens'],
      [{ prot: 1 }, 'prot'],
    ];
    for (const [content, field] of cases) {
      const path = file('c.json', JSON.stringify(content));
      expect(failure(() => loadGatewayConfig({ env: { GATEWAY_CONFIG: path } })).setting).toBe(
        `GATEWAY_CONFIG:${field}`,
      );
    }
  });

  it('never shows a key or secret in its errors', () => {
    const secret = 'shhh-this-is-secret';
    const path = file(
      'd.json',
      JSON.stringify({ keys: [{ name: 'a', key: secret.slice(0, 10) }], jwt: { secret } }),
    );
    const error = failure(() => loadGatewayConfig({ env: { GATEWAY_CONFIG: path } }));
    expect(error.setting).toBe('GATEWAY_CONFIG:keys[0].key');
    expect(error.message).not.toContain(secret.slice(0, 10));
    expect(
      failure(() => loadGatewayConfig({ env: { GATEWAY_ADMIN_KEY: 'tiny-secret' } })).message,
    ).not.toContain('tiny-secret');
  });
});
