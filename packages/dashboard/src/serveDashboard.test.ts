import { InvalidArgumentError } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { describe, expect, it } from 'vitest';
import { serveDashboard } from './serveDashboard.js';
import type { Snapshot } from './views.js';

describe('serveDashboard', () => {
  it('listens on 127.0.0.1 by default and serves the page, uPlot and the state, nothing else', async () => {
    const g = new ResourceGovernor({ maxRequestsPerMinute: 5 }, { name: 'g' });
    const dashboard = await serveDashboard(g);
    try {
      expect(dashboard.url).toBe(`http://127.0.0.1:${dashboard.port}/`);
      expect(await (await fetch(dashboard.url)).text()).toContain('<script src="uplot.js">');
      expect((await fetch(`${dashboard.url}uplot.js`)).headers.get('content-type')).toMatch(/javascript/);
      (await g.acquire({ requests: 2 })).release();
      const state = (await (await fetch(`${dashboard.url}state.json`)).json()) as Snapshot;
      expect(state.governors).toHaveLength(1);
      expect(state.governors[0]).toMatchObject({ name: 'g', admissions: 1, queued: 0 });
      expect(state.governors[0]?.limits[0]).toMatchObject({
        name: 'requestsPerMinute',
        limit: 5,
        remaining: 3,
        used: 2,
      });
      expect((await fetch(`${dashboard.url}nope`)).status).toBe(404);
      expect((await fetch(dashboard.url, { method: 'POST' })).status).toBe(405);
    } finally {
      await dashboard.close();
      g.dispose();
    }
  });

  it('sends everything on connect over Server-Sent Events', async () => {
    const g = new ResourceGovernor({ maxRequestsPerMinute: 5 }, { name: 'g' });
    const dashboard = await serveDashboard(g, { updateMs: 50 });
    try {
      const controller = new AbortController();
      const response = await fetch(`${dashboard.url}events`, { signal: controller.signal });
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = response.body!.getReader();
      let text = '';
      while (!text.includes('event: state')) text += new TextDecoder().decode((await reader.read()).value);
      expect(text).toMatch(/event: hello\ndata: \{.*"history":/);
      controller.abort();
    } finally {
      await dashboard.close();
      g.dispose();
    }
  });

  it('refuses what it cannot show, and bad options, naming them', async () => {
    await expect(serveDashboard({} as never)).rejects.toThrow(InvalidArgumentError);
    const g = new ResourceGovernor({});
    await expect(serveDashboard(g, { port: -1 })).rejects.toThrow(/port/);
    await expect(serveDashboard(g, { updateMs: 1 })).rejects.toThrow(/updateMs/);
    g.dispose();
  });
});
