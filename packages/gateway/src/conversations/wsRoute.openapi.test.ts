// WS /ws/{id} as the OpenAPI document shows it, and as a plain HTTP GET finds it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { call, type Harness, startHarness, testKey } from '../test-support/harness.js';

let h: Harness;
const alice = testKey('alice');
beforeAll(async () => {
  h = await startHarness({
    keys: [{ name: 'alice', permissions: ['read', 'write'] }],
    config: { docs: true, conversations: { maxTokens: 16 } },
  });
}, 60_000);
afterAll(() => h?.close());

/** Starts conversation `id` of alice's (one agent, one turn). */
async function start(id: string): Promise<void> {
  const body = { message: 'Hi?', num_agents: 1, turns: 1 };
  expect((await call(h.gateway, `/stream/${id}`, { key: alice, body })).status).toBe(200);
}

interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { in: string; name: string; required?: boolean }[];
  responses?: Record<string, { description?: string; content?: unknown }>;
}

describe('WS /ws/{conversation_id} in the OpenAPI document', () => {
  it('is listed as a GET that upgrades, with its path parameter, credential and refusals', async () => {
    const doc = (await (await call(h.gateway, '/docs/json')).json()) as {
      paths: Record<string, Record<string, Operation>>;
    };
    const path = doc.paths['/ws/{conversation_id}'];
    expect(Object.keys(path ?? {})).toEqual(['get']);
    const get = path?.get;
    expect(get?.tags).toEqual(['conversations']);
    expect(get?.security).toEqual([{ bearer: [] }]);
    expect(get?.description).toContain('Upgrade: websocket');
    expect(get?.description).toContain('Sec-WebSocket-Protocol');
    expect(get?.parameters).toEqual([
      expect.objectContaining({ in: 'path', name: 'conversation_id', required: true }),
    ]);
    expect(Object.keys(get?.responses ?? {}).sort()).toEqual(['101', '401', '403', '404', '426']);
    expect(get?.responses?.['101']?.description).toMatch(/Switching Protocols/);
    expect(get?.responses?.['101']?.content).toBeUndefined();
  });

  it('answers a GET without the upgrade 426 once the caller may watch, and refuses others as the upgrade does', async () => {
    const id = 'ws-openapi-plain-get';
    await start(id);
    const plain = await call(h.gateway, `/ws/${id}`, { key: alice });
    expect(plain.status).toBe(426);
    expect(plain.headers.get('upgrade')).toBe('websocket');
    expect(((await plain.json()) as { error: { code: string } }).error.code).toBe('upgrade_required');
    expect((await call(h.gateway, `/ws/${id}`)).status).toBe(401);
    expect((await call(h.gateway, `/ws/${id}`, { key: testKey('admin') })).status).toBe(426);
    expect((await call(h.gateway, '/ws/no-such-conversation', { key: alice })).status).toBe(404);
  });

  it('still upgrades: a watcher gets the conversation to its end', async () => {
    const id = 'ws-openapi-upgrade';
    await start(id);
    const socket = new WebSocket(`${h.gateway.url.replace(/^http/, 'ws')}/ws/${id}`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    const types: string[] = [];
    socket.on('message', (data) => types.push((JSON.parse(String(data)) as { type: string }).type));
    const code = await new Promise<number>((resolve, reject) => {
      socket.once('close', (c) => resolve(c));
      socket.once('error', reject);
    });
    expect(code).toBe(1000);
    expect(types[0]).toBe('started');
    expect(types.at(-1)).toBe('completed');
  });
});
