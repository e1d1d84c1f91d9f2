/**
 * A governor shared by a few simulated async tasks, printing its events. No service
 * needed. Limits are "per minute", time-compressed 60x so a minute lasts a second.
 *
 *   npm run example
 */
import { pathToFileURL } from 'node:url';
import { type GovernorEvent, ResourceGovernor } from '@tollgate/limits';

export interface BasicsResult {
  readonly completed: number;
  readonly events: Readonly<Record<string, number>>;
  readonly elapsedMs: number;
}

export async function main(
  options: { tasks?: number; log?: (line: string) => void } = {},
): Promise<BasicsResult> {
  const { tasks = 8, log = console.log } = options;
  const governor = new ResourceGovernor(
    {
      maxConcurrentTasks: 3,
      maxRequestsPerMinute: 6,
      maxTokensPerMinute: 3_000,
      algorithm: 'sliding-window',
      timeScale: 60,
    },
    { name: 'demo' },
  );
  const counts: Record<string, number> = {};
  const started = performance.now();
  const stamp = () => `${String(Math.round(performance.now() - started)).padStart(5)} ms`;
  governor.events$.subscribe((e: GovernorEvent) => {
    counts[e.type] = (counts[e.type] ?? 0) + 1;
    if (e.type === 'acquired' && e.cost.requests)
      log(`${stamp()}  call admitted (${e.label}) after waiting ${Math.round(e.waitedMs)} ms`);
    if (e.type === 'queued') log(`${stamp()}  ${e.label} waits: ${e.reason}`);
    if (e.type === 'limit-approaching') log(`${stamp()}  ${e.limit} at ${Math.round(e.ratio * 100)}%`);
  });

  // Each task makes two "LLM calls": reserve an estimate, then settle with the real usage.
  const work = Array.from({ length: tasks }, (_, i) =>
    governor.runTask(
      async (signal) => {
        for (let call = 0; call < 2; call++) {
          const lease = await governor.acquire({ requests: 1, tokens: 400 }, { signal, label: `task-${i}` });
          await new Promise((r) => setTimeout(r, 20)); // the model "thinks"
          lease.settle({ tokens: 250 + ((i * 37) % 100) }); // actual usage: less than estimated
        }
      },
      { label: `task-${i}` },
    ),
  );
  await Promise.all(work);
  const status = governor.checkResourceAvailability();
  log(
    `${stamp()}  done: ${tasks} tasks, ${status.activeTasks} active, remaining ${JSON.stringify(status.remaining)}`,
  );
  governor.dispose();
  return { completed: tasks, events: counts, elapsedMs: performance.now() - started };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
