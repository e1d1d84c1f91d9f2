import { HeuristicTokenCounter, InvalidArgumentError, ManualClock } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CircuitOpenError, ProviderError, ProviderRateLimitError } from '../errors.js';
import { ScriptedClient, type ScriptedReply } from '../scripted/ScriptedClient.js';
import { CircuitBreaker, type CircuitPermit } from './CircuitBreaker.js';
import { GovernedClient } from './GovernedClient.js';

const down = () => new ProviderError('upstream down', { provider: 'scripted', status: 503 });
const request = { messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 10 };

/** A client whose first two calls fail with 503 (opening a breaker of threshold 2), then `after(call)`. */
function failingTwice(after: (call: number) => ScriptedReply) {
  const clock = new ManualClock();
  let calls = 0;
  const inner = new ScriptedClient({
    clock,
    script: () => (++calls <= 2 ? down() : after(calls)),
  });
  const breaker = new CircuitBreaker('scripted', { failureThreshold: 2, resetMs: 1_000 }, clock);
  const governor = new ResourceGovernor({ maxRequestsPerMinute: 1_000 }, { clock });
  const client = new GovernedClient(inner, {
    governors: [governor],
    circuitBreaker: breaker,
    retry: { maxAttempts: 1 },
    tokenCounter: new HeuristicTokenCounter(),
    clock,
  });
  const attempt = (signal?: AbortSignal) =>
    client.chat(request, { signal }).then(
      (r) => `ok: ${r.content}`,
      (e: Error) => e.name,
    );
  /** The two failures open the circuit; then `resetMs` passes, so the next call probes. */
  const openThenWaitReset = async () => {
    await attempt();
    await attempt();
    await clock.advanceAsync(1_000);
  };
  return { clock, breaker, attempt, openThenWaitReset, client, calls: () => calls };
}

describe('CircuitBreaker', () => {
  it('rejects options out of range, naming each', () => {
    const make = () => new CircuitBreaker('p', { failureThreshold: -1, resetMs: Number.NaN });
    expect(make).toThrow(InvalidArgumentError);
    expect(make).toThrow(/CircuitBreaker\.failureThreshold.*CircuitBreaker\.resetMs/s);
    expect(() => new CircuitBreaker('p', { failureThreshold: 1.5 })).toThrow(/failureThreshold/);
    expect(() => new CircuitBreaker('p', { resetMs: 0 })).toThrow(/resetMs/);
  });

  it('in half-open lets exactly one probe reach the provider while it is in flight', async () => {
    const { clock, breaker, attempt, calls } = failingTwice(() => ({ content: 'slow', delayMs: 10_000 }));
    await attempt();
    await attempt();
    expect(breaker.state).toBe('open');
    await clock.advanceAsync(1_000);
    const results: Promise<string>[] = [];
    for (let i = 0; i < 10; i++) {
      results.push(attempt());
      await clock.advanceAsync(1);
    }
    expect(calls() - 2).toBe(1);
    await clock.advanceAsync(20_000);
    const settled = await Promise.all(results);
    expect(settled[0]).toBe('ok: slow');
    expect(settled.slice(1)).toEqual(Array(9).fill('CircuitOpenError'));
    expect(breaker.state).toBe('closed');
  });

  it('gives the probe back when it is aborted, so the next caller probes and can close the circuit', async () => {
    const { clock, breaker, attempt, openThenWaitReset, calls } = failingTwice((call) =>
      call === 3 ? { content: 'slow probe', delayMs: 10_000 } : { content: 'healthy again' },
    );
    await openThenWaitReset();
    const controller = new AbortController();
    const probe = attempt(controller.signal);
    await clock.advanceAsync(100);
    controller.abort(new Error('caller cancelled'));
    expect(await probe).toBe('AbortError');
    expect(breaker.state).toBe('half-open');
    expect(await attempt()).toBe('ok: healthy again');
    expect(breaker.state).toBe('closed');
    expect(calls()).toBe(4);
  });

  it.each([
    ['throws a plain error', () => new TypeError('bug in a client')],
    ['hits a 429', () => new ProviderRateLimitError('slow down', { provider: 'scripted', retryAfterMs: 10 })],
  ])('gives the probe back when it %s', async (_, error) => {
    const { clock, breaker, attempt, openThenWaitReset, calls } = failingTwice((call) =>
      call === 3 ? error() : { content: 'fine' },
    );
    await openThenWaitReset();
    expect(await attempt()).not.toBe('CircuitOpenError');
    expect(breaker.state).toBe('half-open');
    await clock.advanceAsync(10);
    expect(await attempt()).toBe('ok: fine');
    expect(breaker.state).toBe('closed');
    expect(calls()).toBe(4);
  });

  it('gives the probe back when a streamed probe is unsubscribed', async () => {
    const { clock, breaker, attempt, openThenWaitReset, client } = failingTwice((call) =>
      call === 3 ? { content: 'slow stream', delayMs: 10_000 } : { content: 'fine' },
    );
    await openThenWaitReset();
    const subscription = client.stream(request).subscribe({ error: () => {} });
    await clock.advanceAsync(100);
    subscription.unsubscribe();
    expect(await attempt()).toBe('ok: fine');
    expect(breaker.state).toBe('closed');
  });

  it('a probe that fails opens the circuit again for resetMs', async () => {
    const { breaker, attempt, openThenWaitReset } = failingTwice(() => down());
    await openThenWaitReset();
    expect(await attempt()).toBe('ProviderError');
    expect(breaker.state).toBe('open');
    expect(await attempt()).toBe('CircuitOpenError');
  });

  it('never has two probes in flight, whatever the calls report and in whatever order', () => {
    type Op =
      | { kind: 'check' }
      | { kind: 'report'; pick: number; how: 'success' | 'failure' | 'neutral' }
      | { kind: 'advance'; ms: number };
    const op = fc.oneof(
      fc.constant<Op>({ kind: 'check' }),
      fc.record({
        kind: fc.constant('report' as const),
        pick: fc.nat(),
        how: fc.constantFrom('success' as const, 'failure' as const, 'neutral' as const),
      }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 1_500 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const clock = new ManualClock();
        const breaker = new CircuitBreaker('p', { failureThreshold: 2, resetMs: 1_000 }, clock);
        const inFlight: CircuitPermit[] = [];
        // Permits granted in the current half-open spell and not yet reported.
        let probes: CircuitPermit[] = [];
        breaker.state$.subscribe((state) => {
          if (state !== 'half-open') probes = [];
        });
        const check = () => {
          const permit = breaker.check();
          inFlight.push(permit);
          if (breaker.state === 'half-open') probes.push(permit);
          return permit;
        };
        for (const o of ops) {
          if (o.kind === 'advance') clock.advance(o.ms);
          else if (o.kind === 'check') {
            try {
              check();
            } catch (error) {
              expect(CircuitOpenError.is(error)).toBe(true);
            }
          } else if (inFlight.length > 0) {
            const [permit] = inFlight.splice(o.pick % inFlight.length, 1);
            probes = probes.filter((p) => p !== permit);
            permit![o.how]();
          }
          expect(probes.length).toBeLessThanOrEqual(1);
          if (breaker.state === 'half-open' && probes.length === 0) {
            // Nobody holds the probe: the next caller must get it.
            expect(check().probe).toBe(true);
          }
        }
      }),
    );
  });
});
