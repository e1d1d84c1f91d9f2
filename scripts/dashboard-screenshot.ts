// Takes the screenshot in docs/observability.md: the demo with its dashboard, in headless
// Chromium, part way through the run.
//   npx tsx --tsconfig tsconfig.tests.json --conditions=@tollgate/source scripts/dashboard-screenshot.ts [out.png]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { main } from '../examples/demo.js';
import { CHROMIUM_ARGS, chromiumPath } from '../packages/limits/src/test-support/chromium.js';

const out = process.argv[2] ?? join(import.meta.dirname, '..', 'docs', 'images', 'dashboard.png');
let url: string | undefined;
const demo = main({
  agents: 20,
  rpm: 7,
  windowMs: 2_500,
  dashboard: true,
  dashboardPort: 0,
  progress: false,
  log: (line) => {
    const found = /^dashboard: (\S+)/.exec(line);
    if (found) url = found[1];
  },
  env: {},
});
while (!url) await new Promise((r) => setTimeout(r, 100));
const profile = mkdtempSync(join(tmpdir(), 'tollgate-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: chromiumPath(),
  args: [...CHROMIUM_ARGS],
  headless: true,
  viewport: { width: 1280, height: 1000 },
});
const page = context.pages()[0] ?? (await context.newPage());
await page.goto(url);
await new Promise((r) => setTimeout(r, 9_000)); // a few windows of history in the charts
await page.screenshot({ path: out, fullPage: false });
await context.close();
rmSync(profile, { recursive: true, force: true });
const { dashboard } = await demo;
await dashboard?.close();
console.log(`wrote ${out}`);
