import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { redisService } from '../../packages/limits/src/test-support/redisServer.js';
import { hasService } from '../../packages/limits/src/test-support/services.js';
import { renderMarkdown, runBench, SECTIONS } from './run.js';

const withRedis = hasService(redisService, import.meta.url, 'its Redis section');

it('runs every section in quick mode and writes results of the documented shape', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tollgate-bench-'));
  const report = await runBench({ quick: true, resultsDir: dir, docPath: false, log: () => {} });
  expect(report.sections.map((s) => s.name)).toEqual(Object.keys(SECTIONS));
  expect(Object.values(report.peers)).not.toContain('missing');
  for (const section of report.sections) {
    if ((section.name === 'redis' || section.name === 'processes') && !withRedis) {
      expect(section.skipped).toMatch(/redis-server was not found/);
      continue;
    }
    expect(section.skipped).toBeUndefined();
    expect(section.title).toMatch(/\w/);
    expect(section.table.split('\n').length).toBeGreaterThan(2);
    expect(section.markdown).toMatch(/^\| .+ \|\n\| --- /);
    for (const goal of section.goals)
      expect(goal).toEqual({ goal: expect.any(String), met: expect.any(Boolean), value: expect.any(String) });
  }
  expect((await readdir(dir)).sort()).toEqual(
    Object.keys(SECTIONS)
      .map((n) => `quick-${n}.json`)
      .sort(),
  );
  const overhead = JSON.parse(await readFile(join(dir, 'quick-overhead.json'), 'utf8'));
  expect(overhead.data.rows.map((r: { name: string }) => r.name)).toEqual(
    expect.arrayContaining([
      'p-limit',
      'p-queue',
      'bottleneck',
      'rate-limiter-flexible (memory)',
      'cockatiel bulkhead',
      'limiter',
    ]),
  );
  for (const row of overhead.data.rows) expect(row.serial.median).toBeGreaterThan(0);
  const accuracy = report.sections.find((s) => s.name === 'accuracy')!.data as {
    rows: { maxInAnyWindow: number }[];
  };
  expect(accuracy.rows.length).toBe(12);
  const doc = renderMarkdown(report);
  expect(doc).toMatch(/^# Benchmarks/);
  expect(doc).toMatch(/## Goals/);
}, 240_000); // the gateway section starts two gateways, each with an embedded PostgreSQL
