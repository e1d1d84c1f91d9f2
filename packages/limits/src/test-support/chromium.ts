import { spawnSync } from 'node:child_process';
import type { Service } from './services.js';

/** The browser: `TOLLGATE_CHROMIUM` when set (a path, or a missing one to try a machine without it). */
export const chromiumPath = () => process.env.TOLLGATE_CHROMIUM || '/usr/bin/chromium';

/** What the browser suites need (Debian's `chromium`, driven by playwright-core); see `hasService`. */
export const chromiumService: Service = {
  name: 'chromium',
  install: 'apt-get install -y chromium (Debian/Ubuntu)',
  available: () => spawnSync(chromiumPath(), ['--version']).status === 0,
};

/** Flags for a headless, quiet Chromium that reaches nothing but the pages it is sent to. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
