import type { Simulator } from '@tollgate/simulator';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  admissionSpanBound,
  loopDelay,
  OTHER_KEY,
  providerGovernor,
  record,
  simulatedModel,
  simulator,
  tokenCounter,
} from './test-support/simulated.js';
import { tollgateMiddleware } from './tollgateMiddleware.js';

const sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

/** 50 calls on 7 per window: 8 windows' worth, so the last admission is at least 7 windows after the first. */
const CALLS = 50;
const RPM = 7;
// Long enough that a loaded machine's event-loop delays (tens of ms per window cycle) stay well inside 10%.
const WINDOW_MS = 2_000;
const MINIMUM_MS = (Math.ceil(CALLS / RPM) - 1) * WINDOW_MS;

describe('tollgateMiddleware with the real AI SDK against the simulator over HTTP', () => {
  it.each([
    ['generateText', false],
    ['streamText', true],
  ])(
    '50 concurrent %s calls on a 7-per-window quota: all succeed, zero 429s, within 10% of the minimum plus the hold and timer delays measured',
    async (_, stream) => {
      // Short replies: pacing is under test, and this machine's CPU is shared with other suites.
      const sim = await simulator({
        quota: { requestsPerWindow: RPM, windowMs: WINDOW_MS },
        completionTokens: [1, 4],
      });
      sims.push(sim);
      // One burst as wide as a window on another key opens the keep-alive connections (and
      // warms the SDK's code) outside the measurement; the simulator keeps a quota per key.
      await Promise.all(
        Array.from({ length: RPM }, (_, i) =>
          generateText({ model: simulatedModel(sim, 'sim-small', OTHER_KEY), prompt: `${i}`, maxRetries: 0 }),
        ),
      );
      sim.reset();
      const provider = providerGovernor(RPM, WINDOW_MS);
      const middleware = tollgateMiddleware({ governors: [provider], tokenCounter });
      const model = wrapLanguageModel({ model: simulatedModel(sim), middleware });
      const { events } = record(provider);
      const call = async (i: number) => {
        const prompt = `Summarise item ${i} in a line.`;
        if (!stream) return (await generateText({ model, prompt, maxOutputTokens: 40, maxRetries: 0 })).text;
        const result = streamText({ model, prompt, maxOutputTokens: 40, maxRetries: 0 });
        return (await result.text) + ((await result.finishReason) === 'error' ? ' (error)' : '');
      };
      const lag = loopDelay();
      const started = performance.now();
      const texts = await Promise.all(Array.from({ length: CALLS }, (_, i) => call(i)));
      const makespanMs = performance.now() - started;
      const lagMs = lag.stop();
      const stats = sim.stats();
      const spanMs = stats.lastAdmissionMs! - stats.firstAdmissionMs!;
      const boundMs = admissionSpanBound(events, {
        perWindow: RPM,
        windowMs: WINDOW_MS,
        minimumMs: MINIMUM_MS,
        lagMs,
      });
      provider.dispose();

      console.log(
        `${stream ? 'streamText' : 'generateText'}: ${CALLS} calls, admissions over ${spanMs.toFixed(0)} ms (minimum ${MINIMUM_MS} ms, bound ${boundMs.toFixed(0)} ms with loop delay p99 ${lagMs.toFixed(1)} ms), makespan ${makespanMs.toFixed(0)} ms, ${stats.rateLimited} x 429`,
      );
      expect(texts.every((t) => /\w/.test(t) && !t.endsWith('(error)'))).toBe(true);
      expect(stats).toMatchObject({ admitted: CALLS, rateLimited: 0, maxRequestsInWindow: RPM });
      expect(middleware.stats).toMatchObject({ calls: CALLS, succeeded: CALLS, failed: 0, rateLimited: 0 });
      expect(middleware.stats.usage.completionTokens).toBeGreaterThan(0);
      // The provider's first to last admission: what the quota allows, plus at most 10% and
      // the hold and timer delays measured.
      expect(events.filter((e) => e.type === 'released')).toHaveLength(CALLS);
      expect(spanMs).toBeGreaterThanOrEqual(MINIMUM_MS);
      expect(spanMs).toBeLessThanOrEqual(boundMs);
    },
    45_000,
  );
});
