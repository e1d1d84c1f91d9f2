import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ManualClock, ResourceLimitExceededError } from '@tollgate/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';
import { ProcessMemoryProbe } from './MemoryProbe.js';

const MB = 1024 * 1024;
const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

/** A real child process holding `mb` of touched memory, ready once it says so. */
async function hog(mb: number) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `globalThis.keep = Buffer.alloc(${mb} * 1024 * 1024, 1); console.log('ready'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  await once(child.stdout!, 'data');
  return child;
}

describe('ProcessMemoryProbe', () => {
  it('reads this process once per refresh interval', () => {
    const clock = new ManualClock();
    let reads = 0;
    let rss = 100 * MB;
    const probe = new ProcessMemoryProbe({
      clock,
      refreshMs: 500,
      readRss: () => {
        reads++;
        return rss;
      },
    });
    expect(probe.usageMb()).toBe(100);
    rss = 300 * MB;
    clock.advance(499);
    expect(probe.usageMb()).toBe(100); // cached: the acquire path stays cheap
    expect(reads).toBe(1);
    clock.advance(1);
    expect(probe.usageMb()).toBe(300);
    expect(reads).toBe(2);
  });

  it('adds the memory of child processes, sampled with pidusage, and drops them when they exit', async () => {
    const child = await hog(64);
    const probe = new ProcessMemoryProbe({ readRss: () => 10 * MB, refreshMs: 0 });
    expect(await probe.refreshChildren()).toBe(0);
    probe.addPid(child.pid!);
    const childMb = await probe.refreshChildren();
    expect(childMb).toBeGreaterThanOrEqual(60);
    expect(probe.usageMb()).toBeCloseTo(10 + childMb, 5);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(await probe.refreshChildren()).toBe(0); // the exited pid is dropped, not an error
    expect(probe.usageMb()).toBe(10);
  });

  it('is what a governor with maxMemoryMb uses by default: the real resident set counts', async () => {
    const rssMb = process.memoryUsage.rss() / MB;
    const over = new ResourceGovernor({ maxMemoryMb: Math.floor(rssMb / 2), rejectOnLimit: true });
    const error = await over.acquire({ task: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceLimitExceededError);
    expect(error).toMatchObject({ limit: 'memory' });
    const under = new ResourceGovernor({ maxMemoryMb: Math.ceil(rssMb * 4), rejectOnLimit: true });
    (await under.acquire({ task: 1 })).release();
    expect(under.checkResourceAvailability().memoryUsageMb).toBeGreaterThan(rssMb / 2);
    over.dispose();
    under.dispose();
  });
});
