import { flushMicrotasks, InvalidArgumentError, ManualClock } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { GovernedClient, ProviderRateLimitError, ScriptedClient } from '@tollgate/llm-clients';
import { afterEach, describe, expect, it } from 'vitest';
import { GEN_AI, TOLLGATE_ATTR } from './conventions.js';
import { instrument } from './instrument.js';
import { inMemoryOtel, total } from './test-support/otel.js';

const otels: Array<ReturnType<typeof inMemoryOtel>> = [];
const sdk = () => {
  const otel = inMemoryOtel();
  otels.push(otel);
  return otel;
};
afterEach(async () => {
  for (const o of otels.splice(0)) await o.shutdown();
});

const G = (name: string) => ({ [TOLLGATE_ATTR.governor]: name });

describe('instrument(governor)', () => {
  it('counts admissions, measures waits on the clock, and reports limits, queue and utilisation', async () => {
    const clock = new ManualClock();
    const g = new ResourceGovernor(
      { maxRequestsPerMinute: 2, algorithm: 'sliding-window', maxConcurrentTasks: 5 },
      { clock, name: 'g' },
    );
    const otel = sdk();
    const telemetry = instrument(g, { meterProvider: otel.meterProvider });
    const limit = {
      ...G('g'),
      [TOLLGATE_ATTR.limit]: 'requestsPerMinute',
      [TOLLGATE_ATTR.resource]: 'requests',
    };
    const a = await g.acquire({ requests: 1, task: 1 });
    expect(total(await otel.points('tollgate.limit.utilization'), limit)).toBe(0.5);
    await g.acquire({ requests: 1 });
    const third = g.acquire({ requests: 1 });
    await flushMicrotasks();
    expect(total(await otel.points('tollgate.queue.depth'), G('g'))).toBe(1);
    expect(total(await otel.points('tollgate.tasks.active'), G('g'))).toBe(1);
    expect(total(await otel.points('tollgate.limit.remaining'), limit)).toBe(0);
    expect(total(await otel.points('tollgate.limit.max'), limit)).toBe(2);
    expect(total(await otel.points('tollgate.limit.utilization'), limit)).toBe(1);
    clock.advance(60_000);
    await third;
    expect(total(await otel.points('tollgate.admissions'), G('g'))).toBe(3);
    const waits = await otel.points('tollgate.wait.duration');
    expect(total(waits, G('g'), 'count')).toBe(3);
    expect(total(waits, G('g'))).toBe(60);
    a.release();
    telemetry.dispose();
    g.dispose();
  });

  it('counts rejections by reason and cooldowns, and stops at dispose', async () => {
    const clock = new ManualClock();
    const g = new ResourceGovernor({ maxRequestsPerMinute: 1, rejectOnLimit: true }, { clock, name: 'r' });
    const otel = sdk();
    const telemetry = instrument(g, { meterProvider: otel.meterProvider });
    await g.acquire({ requests: 1 });
    await expect(g.acquire({ requests: 1 })).rejects.toThrow();
    g.cooldown(1_000, '429');
    const rejections = await otel.points('tollgate.rejections');
    expect(total(rejections, { ...G('r'), [TOLLGATE_ATTR.reason]: 'requestsPerMinute' })).toBe(1);
    expect(total(await otel.points('tollgate.cooldowns'), G('r'))).toBe(1);
    telemetry.dispose();
    clock.advance(120_000);
    await g.acquire({ requests: 1 });
    expect(total(await otel.points('tollgate.admissions'), G('r'))).toBe(1);
    expect(telemetry.metricsText()).not.toMatch(/tollgate_limit_remaining/);
    g.dispose();
  });

  it('counts a wait that times out as a rejection for wait_timeout', async () => {
    const clock = new ManualClock();
    const g = new ResourceGovernor({ maxRequestsPerMinute: 1 }, { clock, name: 'w' });
    const otel = sdk();
    const telemetry = instrument(g, { meterProvider: otel.meterProvider });
    await g.acquire({ requests: 1 });
    const late = g.acquire({ requests: 1 }, { timeoutMs: 100 });
    const settled = expect(late).rejects.toThrow();
    clock.advance(100);
    await settled;
    const rejections = await otel.points('tollgate.rejections');
    expect(total(rejections, { ...G('w'), [TOLLGATE_ATTR.reason]: 'wait_timeout' })).toBe(1);
    telemetry.dispose();
    g.dispose();
  });
});

describe('instrument(client)', () => {
  it('a 429 is counted, retried and cooled down; the chat span tells the attempt', async () => {
    const clock = new ManualClock();
    const g = new ResourceGovernor({ maxRequestsPerMinute: 100 }, { clock, name: 'provider' });
    const inner = new ScriptedClient({
      model: 'm1',
      script: [
        new ProviderRateLimitError('slow down', { provider: 'scripted', retryAfterMs: 2_000 }),
        { content: 'ok' },
      ],
    });
    const client = new GovernedClient(inner, { governors: [g], clock, random: () => 0.5 });
    const otel = sdk();
    const onClient = instrument(client, {
      meterProvider: otel.meterProvider,
      tracerProvider: otel.tracerProvider,
    });
    const onGovernor = instrument(g, { meterProvider: otel.meterProvider });
    const reply = client.chat({ messages: [{ role: 'user', content: 'hi' }] });
    for (let i = 0; i < 10; i++) {
      await flushMicrotasks();
      clock.advance(1_000);
    }
    expect((await reply).content).toBe('ok');
    const call = { [GEN_AI.providerName]: 'scripted', [GEN_AI.requestModel]: 'm1' };
    expect(total(await otel.points('tollgate.provider.rate_limited'), call)).toBe(1);
    expect(total(await otel.points('tollgate.retries'), call)).toBe(1);
    expect(total(await otel.points('tollgate.cooldowns'), G('provider'))).toBe(1);
    expect(total(await otel.points('tollgate.admissions'), G('provider'))).toBe(2);
    const [span] = otel.spans();
    expect(span?.name).toBe('chat m1');
    expect(span?.attributes[TOLLGATE_ATTR.attempt]).toBe(2);
    expect(span?.attributes[GEN_AI.inputTokens]).toBe(client.stats.usage.promptTokens);
    onClient.dispose();
    onGovernor.dispose();
    g.dispose();
  });
});

describe('instrument: bad input', () => {
  it('names what it takes', () => {
    expect(() => instrument({} as never)).toThrow(InvalidArgumentError);
    expect(() => instrument({} as never)).toThrow(/a governor, a governed client, an agent, a fleet/);
    const g = new ResourceGovernor({});
    expect(() => instrument(g, { meterProvider: {} as never })).toThrow(/meterProvider/);
    g.dispose();
  });
});
