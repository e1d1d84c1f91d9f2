// Test setup: the simulator on 127.0.0.1, an AI SDK model on it, and a governor of its quota.
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
