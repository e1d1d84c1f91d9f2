// `dashboardHandler`: the dashboard's pages and Server-Sent Events as a request handler, to mount
// in a server of one's own (serveDashboard runs one on its own port).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkOptions, InvalidArgumentError, numberIn, optionRules, rule } from '@tollgate/core';
import { classify, type InstrumentTarget } from '@tollgate/telemetry';
import { loadAssets } from './assets.js';
import { EventStream } from './EventStream.js';
import { DashboardState } from './state/DashboardState.js';

/** Options of {@link dashboardHandler}. */
export interface DashboardHandlerOptions {
  /** The page's title. @default 'Tollgate' */
  readonly title?: string | undefined;
  /** How often the page gets fresh numbers and a chart point, at most, ms. Minimum: 50. @default 250 */
  readonly updateMs?: number | undefined;
  /** How much of each limit's history the charts keep, ms. Minimum: 10_000. @default 300_000 (5 minutes) */
  readonly historyMs?: number | undefined;
  /** A fleet's budget caps, to show spending against (a fleet tells them only once crossed). */
  readonly budget?: { readonly maxTokens?: number; readonly maxCost?: number } | undefined;
}

/** The dashboard as a handler: answer requests, follow more targets, stop. */
export interface DashboardHandler {
  /**
   * Answers one request. `path` is the path below where the dashboard is mounted (`/`,
   * `/app.js`, `/events`, `/state.json`, ...); @default the request URL's path. The page
   * refers to its files and events relatively, so it works under any prefix ending in `/`.
   */
  handle(request: IncomingMessage, response: ServerResponse, path?: string): void;
  /** Shows one more target too (e.g. a governor made after the start). */
  follow(target: InstrumentTarget): void;
  /** Ends the open event streams and unsubscribes from every target. Idempotent. */
  close(): void;
}

const TARGET_EXPECTED = 'a governor, a governed client, an agent, a fleet or a Tollgate container';

function checkTarget(target: unknown, name: string): InstrumentTarget {
  if (!classify(target)) throw new InvalidArgumentError(name, TARGET_EXPECTED, target);
  return target as InstrumentTarget;
}

function checked(options: DashboardHandlerOptions) {
  checkOptions('dashboardHandler', options, {
    title: optionRules.string,
    updateMs: numberIn(50, Number.POSITIVE_INFINITY),
    historyMs: numberIn(10_000, Number.POSITIVE_INFINITY),
    budget: rule('an object', (v) => typeof v === 'object' && v !== null),
  });
  const { title = 'Tollgate', updateMs = 250, historyMs = 300_000 } = options;
  return { title, updateMs, historyMs };
}

/**
 * The live page of `targets` (each a governor, governed client, agent, fleet or Tollgate
 * container) as a `node:http`-style handler, for a server that already exists.
 *
 * @example
 * const dashboard = dashboardHandler([providerGovernor, keyGovernor]);
 * http.createServer((req, res) => dashboard.handle(req, res)).listen(7357, '127.0.0.1');
 *
 * @throws InvalidArgumentError when a target is none of these, or an option is wrong.
 */
export function dashboardHandler(
  targets: InstrumentTarget | readonly InstrumentTarget[],
  options: DashboardHandlerOptions = {},
): DashboardHandler {
  const list = Array.isArray(targets)
    ? (targets as readonly InstrumentTarget[])
    : [targets as InstrumentTarget];
  for (const [i, t] of list.entries()) checkTarget(t, `dashboardHandler targets[${i}]`);
  const o = checked(options);
  const assets = loadAssets();
  const stream = new EventStream(2_000);
  const [first, ...rest] = list;
  const state = new DashboardState(first as InstrumentTarget, {
    title: o.title,
    historyLength: Math.ceil(o.historyMs / o.updateMs),
    maxAgents: 200,
    budget: options.budget,
  });
  for (const t of rest) state.follow(t);
  // Every updateMs: fresh numbers and a chart point (sliding windows refill with no event to tell).
  const pusher = setInterval(
    () => stream.send('state', { ...state.snapshot(false), sample: state.sample() }),
    o.updateMs,
  );
  pusher.unref();
  let closed = false;
  return {
    handle(request, response, path = new URL(request.url ?? '/', 'http://localhost').pathname) {
      if (request.method !== 'GET') return void response.writeHead(405, { allow: 'GET' }).end();
      if (path === '/events') return stream.open(response, { event: 'hello', data: state.snapshot(true) });
      if (path === '/state.json')
        return void response
          .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
          .end(JSON.stringify(state.snapshot(true)));
      const asset = assets.get(path === '/index.html' ? '/' : path);
      if (!asset) return void response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      response.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' }).end(asset.body);
    },
    follow(target) {
      if (!closed) state.follow(checkTarget(target, 'dashboardHandler.follow target'));
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(pusher);
      state.dispose();
      stream.close();
    },
  };
}
