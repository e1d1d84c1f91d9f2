// Runs many concurrent callers through one client and measures the run, for the provider fleet tests.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { ChatRequest, LLMClient } from '../types.js';

/** What a run of callers took: its makespan, how late timers fired (p99) and the failures. */
export interface CallersRun {
  readonly makespanMs: number;
  readonly lagMs: number;
  readonly failures: unknown[];
}

/** `callers` callers each make `calls` calls in turn, all callers at once. */
export async function runCallers(
  client: LLMClient,
  callers: number,
  calls: number,
  request: (caller: number, call: number) => ChatRequest,
): Promise<CallersRun> {
  const failures: unknown[] = [];
  const resolutionMs = 1;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async (_, i) => {
      for (let c = 0; c < calls; c++)
        await client.chat(request(i, c)).catch((e: unknown) => failures.push(e));
    }),
  );
  const makespanMs = performance.now() - started;
  delay.disable();
  return { makespanMs, lagMs: Math.max(0, delay.percentile(99) / 1e6 - resolutionMs), failures };
}
