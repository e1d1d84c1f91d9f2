// `serveDashboard`: a read-only live page of what a governor, client, agent, fleet or
// container is doing, served from this process over HTTP with Server-Sent Events.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkOptions, InvalidArgumentError, numberIn, optionRules, rule } from '@tollgate/core';
import { classify, type InstrumentTarget } from '@tollgate/telemetry';
import { dashboardHandler } from './dashboardHandler.js';

/** Options of {@link serveDashboard}. */
export interface DashboardOptions {
  /** @default 0 (any free port; read `url`) */
  readonly port?: number | undefined;
  /** Listen on this address only. @default '127.0.0.1' */
  readonly host?: string | undefined;
  /** The page's title. @default 'Tollgate' */
  readonly title?: string | undefined;
  /** How often the page gets fresh numbers and a chart point, at most, ms. Minimum: 50. @default 250 */
  readonly updateMs?: number | undefined;
  /** How much of each limit's history the charts keep, ms. Minimum: 10_000. @default 300_000 (5 minutes) */
  readonly historyMs?: number | undefined;
  /** A fleet's budget caps, to show spending against (a fleet tells them only once crossed). */
  readonly budget?: { readonly maxTokens?: number; readonly maxCost?: number } | undefined;
}

/** Defaults of {@link DashboardOptions}. */
export const DASHBOARD_DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  title: 'Tollgate',
  updateMs: 250,
  historyMs: 300_000,
} as const;

/** A running dashboard. */
export interface Dashboard {
  /** Where the page is, e.g. `http://127.0.0.1:7357/`. */
  readonly url: string;
  readonly port: number;
  /** Stops the server (open pages then show that the process is gone) and unsubscribes. */
  close(): Promise<void>;
}

function checked(options: DashboardOptions) {
  checkOptions('serveDashboard', options, {
    port: numberIn(0, 65_535, 'a port'),
    host: optionRules.string,
    title: optionRules.string,
    updateMs: numberIn(50, Number.POSITIVE_INFINITY),
    historyMs: numberIn(10_000, Number.POSITIVE_INFINITY),
    budget: rule('an object', (v) => typeof v === 'object' && v !== null),
  });
  const d = DASHBOARD_DEFAULTS;
  const {
    port = d.port,
    host = d.host,
    title = d.title,
    updateMs = d.updateMs,
    historyMs = d.historyMs,
  } = options;
  return { port, host, title, updateMs, historyMs };
}

/**
 * Serves a live page of `target` (a governor, governed client, agent, fleet or Tollgate
 * container): per limit, usage against the limit over the last minutes; queue and waits;
 * 429s, retries, cooldowns and circuit state; agents and their tasks; a fleet's budget.
 * Read-only, on 127.0.0.1 by default; everything it needs is served from the package.
 *
 * @example
 * const dashboard = await serveDashboard(fleet, { port: 7357 });
 * console.log(`dashboard: ${dashboard.url}`);
 *
 * @throws InvalidArgumentError when the target is none of these, or an option is wrong.
 */
export async function serveDashboard(
  target: InstrumentTarget,
  options: DashboardOptions = {},
): Promise<Dashboard> {
  if (!classify(target))
    throw new InvalidArgumentError(
      'serveDashboard target',
      'a governor, a governed client, an agent, a fleet or a Tollgate container',
      target,
    );
  const o = checked(options);
  const dashboard = dashboardHandler(target, {
    title: o.title,
    updateMs: o.updateMs,
    historyMs: o.historyMs,
    budget: options.budget,
  });
  const server = createServer((request, response) => dashboard.handle(request, response));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  }).catch((error: unknown) => {
    dashboard.close();
    throw error;
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    url: `http://${host}:${port}/`,
    port,
    async close() {
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
