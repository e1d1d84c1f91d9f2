// Test setup: the simulator on 127.0.0.1, an AI SDK model on it, and a governor of its quota.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { TiktokenCounter } from '@tollgate/core';
import { type GovernorEvent, ResourceGovernor, type ResourceLimits } from '@tollgate/limits';
import { type Simulator, type SimulatorOptions, startSimulator } from '@tollgate/simulator';

/** One warmed counter for the simulator and the middleware (tiktoken loads once, outside any timing). */
export const tokenCounter = new TiktokenCounter();
tokenCounter.countText('warm up');

export const API_KEY = 'sk-ai-sdk-test';
/** A second key: its quota is apart from `API_KEY`'s (the simulator keeps one per key). */
export const OTHER_KEY = 'sk-ai-sdk-other';

/** A simulator with fast, jittered replies; close it with `sim.close()`. */
export function simulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({
    apiKeys: [API_KEY, OTHER_KEY],
    tokenCounter,
    latency: { ttftMs: 5, perTokenMs: 0.05, jitter: 0.5 },
    ...options,
  });
}

/** The OpenAI-compatible provider package's chat model on the simulator (usage in streams on). */
export function simulatedModel(sim: Simulator, modelId = 'sim-small', apiKey = API_KEY) {
  return createOpenAICompatible({ name: 'sim', baseURL: sim.baseURL, apiKey, includeUsage: true })(modelId);
}

/** A provider governor matching a `requestsPerWindow` quota (strict windows, time-compressed). */
export function providerGovernor(rpm: number, windowMs: number, extra: ResourceLimits = {}) {
  return new ResourceGovernor(
    {
      maxRequestsPerMinute: rpm,
      algorithm: 'sliding-window',
      timeScale: 60_000 / windowMs,
      resourceWaitTimeoutSeconds: 600,
      ...extra,
    },
    { name: 'provider' },
  );
}

/** Every event of `governor` from now on, and a way to stop listening. */
export function record(governor: {
  events$: { subscribe(fn: (e: GovernorEvent) => void): { unsubscribe(): void } };
}) {
  const events: GovernorEvent[] = [];
  const sub = governor.events$.subscribe((e) => events.push(e));
  return { events, stop: () => sub.unsubscribe() };
}

/** Sends `n` chat requests on `apiKey` straight to the simulator: another tenant of the same quota. */
export async function useQuota(sim: Simulator, n: number, apiKey = API_KEY): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const res = await fetch(`${sim.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'sim-small',
          messages: [{ role: 'user', content: `other tenant ${i}` }],
          max_tokens: 5,
        }),
      });
      if (!res.ok) throw new Error(`the other tenant was refused: ${res.status}`);
      await res.text();
    }),
  );
}

/** Measures the event loop's delay from now; `stop()` ends it and returns its p99, ms. */
export function loopDelay(): { stop(): number } {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  return {
    stop() {
      histogram.disable();
      return Math.max(0, histogram.percentile(99) / 1e6 - 1);
    },
  };
}

/**
 * The most a paced run's first-to-last admission span may take: `minimumMs` plus 10% (the
 * pacing goal on an idle machine, where the rest is a few ms), plus the delays measured. A
 * call holds its place in the window until its reply starts, so each window's worth of
 * admissions (`perWindow` leases in order of acquisition, as `events` recorded them) frees
 * the next one at most its longest hold later; each wait ends on a timer, late by the event
 * loop's delay `lagMs`.
 */
export function admissionSpanBound(
  events: readonly GovernorEvent[],
  pacing: { perWindow: number; windowMs: number; minimumMs: number; lagMs: number },
): number {
  const acquiredAt = new Map(
    events.flatMap((e) => (e.type === 'acquired' ? [[e.leaseId, e.at] as const] : [])),
  );
  const held = events
    .flatMap((e) => (e.type === 'released' ? [[acquiredAt.get(e.leaseId)!, e.heldMs] as const] : []))
    .sort((a, b) => a[0] - b[0]);
  let holds = 0;
  for (let i = 0; i < held.length; i += pacing.perWindow)
    holds += Math.max(...held.slice(i, i + pacing.perWindow).map(([, ms]) => ms));
  const waits = pacing.minimumMs / pacing.windowMs;
  return pacing.minimumMs * 1.1 + holds + waits * pacing.lagMs;
}
