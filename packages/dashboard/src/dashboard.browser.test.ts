import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FleetEvent, RunReport } from '@tollgate/agents';
import type { GovernorLease } from '@tollgate/limits';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumPath, chromiumService } from '../../limits/src/test-support/chromium.js';
import { hasService } from '../../limits/src/test-support/services.js';
import { simulatedFleet } from '../../telemetry/src/test-support/simulatedFleet.js';
import { type Dashboard, serveDashboard } from './serveDashboard.js';

const withChromium = hasService(chromiumService, import.meta.url);
const POLL = { timeout: 15_000, interval: 100 };

describe.skipIf(!withChromium)('the dashboard, in Chromium, follows a fleet on the simulator', () => {
  let run: Awaited<ReturnType<typeof simulatedFleet>>;
  let dashboard: Dashboard;
  let context: BrowserContext;
  let page: Page;
  const profile = mkdtempSync(join(tmpdir(), 'tollgate-chromium-'));
  const events: FleetEvent[] = [];
  let held: GovernorLease | undefined;
  let running: Promise<RunReport> | undefined;

  beforeAll(async () => {
    // 5 calls per 4 s window; the simulator also answers some calls 429 as if another tenant
    // had used the quota (seeded, so the same calls every run), with a retry-after of 3 s.
    run = await simulatedFleet({
      agents: 3,
      rpm: 5,
      windowMs: 4_000,
      simulator: { faults: { foreign429: 0.35, foreign429RetryAfterMs: 3_000 } },
    });
    run.fleet.events$.subscribe((e) => events.push(e));
    dashboard = await serveDashboard(run.fleet, { updateMs: 100, title: 'Browser test' });
    context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      args: [...CHROMIUM_ARGS],
      headless: true,
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(dashboard.url);
  }, 60_000);

  afterAll(async () => {
    held?.release();
    await running?.catch(() => undefined);
    await context?.close();
    await dashboard?.close();
    await run?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  const provider = () => run.providerGovernor;
  const card = () => page.locator(`[data-governor="${provider().name}"]`);
  const field = async (name: string) => (await card().locator(`[data-field="${name}"]`).textContent()) ?? '';
  const summary = async (name: string) =>
    (await page.locator(`#summary [data-field="${name}"]`).textContent()) ?? '';
  const status = () => provider().checkResourceAvailability();

  it('shows the provider limit as the governor has it', async () => {
    await expect.poll(() => page.locator('#connection').getAttribute('data-state'), POLL).toBe('live');
    await expect.poll(() => field('limit:requestsPerMinute'), POLL).toBe('5');
    await expect
      .poll(() => field('remaining:requestsPerMinute'), POLL)
      .toBe(String(status().remaining.requestsPerMinute));
    expect(await field('reached:requestsPerMinute')).toBe('');
  });

  it('shows the limit reached when the window is used up, and the callers queued behind it', async () => {
    // Held until released: the window stays used however long the agents take to queue.
    held = await provider().acquire({ requests: 5 }, { holdUntilSettled: true });
    await expect.poll(() => field('remaining:requestsPerMinute'), POLL).toBe('0');
    expect(status().remaining.requestsPerMinute).toBe(0);
    expect(await field('reached:requestsPerMinute')).toBe('limit reached');
    running = run.fleet.run(run.tasks);
    await expect
      .poll(
        async () =>
          Number(await field('queued')) > 0 && (await field('queued')) === String(provider().queued),
        POLL,
      )
      .toBe(true);
    expect(provider().queued).toBe(3); // every agent's first call
    held.release(); // the window counts it a full window from now
  });

  it("shows the provider's 429 and the cooldown it starts while the governor is cooling down", async () => {
    await expect
      .poll(
        async () => (await card().locator('[data-field="cooldown"]').getAttribute('data-active')) === 'true',
        POLL,
      )
      .toBe(true);
    const now = status();
    expect(now.cooldownUntil).not.toBeNull();
    expect(now.cooldownUntil!).toBeGreaterThan(now.at);
    const seen = () =>
      events.filter(
        (e) => e.type === 'agent' && e.event.type === 'client' && e.event.event.type === 'rate-limited',
      ).length;
    await expect
      .poll(async () => (await summary('rate-limited')) === String(seen()) && seen() > 0, POLL)
      .toBe(true);
    expect(Number(await field('cooldowns'))).toBeGreaterThan(0);
    await page.screenshot({ path: join(profile, 'dashboard.png'), fullPage: true });
  }, 30_000);

  it('ends with the numbers of the run report, and a reload restores them with the charts', async () => {
    const report = await running!;
    expect(report.totals.succeeded).toBe(3);
    await expect.poll(() => page.locator('[data-field="fleet-finished"]').textContent(), POLL).toBe('3');
    await expect.poll(() => summary('calls'), POLL).toBe(String(report.totals.llmCalls));
    expect(await summary('rate-limited')).toBe(String(report.totals.rateLimited));
    expect(await page.locator('[data-field="fleet-tokens"]').textContent()).toBe(
      report.totals.totalTokens.toLocaleString('en-US'),
    );
    // Every attempt was admitted (the 429s were retried), and the test's own acquire.
    expect(report.totals.retries).toBe(report.totals.rateLimited);
    expect(await field('admissions')).toBe(String(report.totals.llmCalls + report.totals.retries + 1));
    const chart = card().locator('[data-limit="requestsPerMinute"] .uplot');
    const before = Number(await chart.getAttribute('data-points'));
    expect(before).toBeGreaterThan(10);
    await page.reload();
    await expect.poll(() => page.locator('#connection').getAttribute('data-state'), POLL).toBe('live');
    expect(Number(await chart.getAttribute('data-points'))).toBeGreaterThanOrEqual(before);
    expect(await summary('calls')).toBe(String(report.totals.llmCalls));
    expect(await page.locator('[data-field="fleet-finished"]').textContent()).toBe('3');
    expect(await page.locator('#agent-rows tr').count()).toBe(3);
  }, 60_000);

  it('says so when the process behind it has gone', async () => {
    await dashboard.close();
    await expect.poll(() => page.locator('#connection').getAttribute('data-state'), POLL).toBe('gone');
    expect(await page.locator('#connection').textContent()).toMatch(/process gone/);
  });
});
