import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidArgumentError } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { afterEach, describe, expect, it } from 'vitest';
import { type DashboardHandler, dashboardHandler } from './dashboardHandler.js';
import type { Snapshot } from './views.js';

describe('dashboardHandler', () => {
  const cleanup: Array<() => void | Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  /** Mounts the handler under `/under/` of a server of the test's own. */
  async function mount(dashboard: DashboardHandler): Promise<string> {
    const server: Server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (!path.startsWith('/under/')) return void response.writeHead(418).end();
      dashboard.handle(request, response, path.slice('/under'.length));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(async () => {
      dashboard.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/under/`;
  }

  it('serves under a prefix, with the page referring to its files relatively', async () => {
    const g = new ResourceGovernor({ maxRequestsPerMinute: 5 }, { name: 'g' });
    cleanup.push(() => g.dispose());
    const url = await mount(dashboardHandler(g));
    const page = await (await fetch(url)).text();
    expect(page).toContain('<script src="app.js">');
    expect(page).not.toMatch(/(src|href)="\//);
    expect((await fetch(new URL('app.js', url))).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(new URL('uplot.css', url))).headers.get('content-type')).toMatch(/css/);
    expect((await fetch(new URL('nope', url))).status).toBe(404);
  });

  it('shows several targets, and governors followed after the start', async () => {
    const a = new ResourceGovernor({ maxRequestsPerMinute: 5 }, { name: 'a' });
    const b = new ResourceGovernor({ maxRequestsPerMinute: 7 }, { name: 'b' });
    const later = new ResourceGovernor({ maxRequestsPerMinute: 9 }, { name: 'later' });
    cleanup.push(() => {
      for (const g of [a, b, later]) g.dispose();
    });
    const dashboard = dashboardHandler([a, b]);
    const url = await mount(dashboard);
    const names = async () =>
      ((await (await fetch(new URL('state.json', url))).json()) as Snapshot).governors.map((g) => g.name);
    expect(await names()).toEqual(['a', 'b']);
    dashboard.follow(later);
    dashboard.follow(a); // already shown: not twice
    (await later.acquire({ requests: 2 })).release();
    const state = (await (await fetch(new URL('state.json', url))).json()) as Snapshot;
    expect(state.governors.map((g) => g.name)).toEqual(['a', 'b', 'later']);
    expect(state.governors[2]?.limits[0]).toMatchObject({ limit: 9, remaining: 7, used: 2 });
  });

  it('refuses what it cannot show, and bad options, naming them', () => {
    const g = new ResourceGovernor({});
    cleanup.push(() => g.dispose());
    expect(() => dashboardHandler([g, {} as never])).toThrow(/targets\[1\]/);
    expect(() => dashboardHandler(g, { updateMs: 1 })).toThrow(/updateMs/);
    const dashboard = dashboardHandler(g);
    cleanup.push(() => dashboard.close());
    expect(() => dashboard.follow(42 as never)).toThrow(InvalidArgumentError);
  });
});
