import { describe, expect, it } from 'vitest';
import { call, startHarness } from './test-support/harness.js';
import { apiSuite } from './test-support/suites/apiSuite.js';
import { securitySuite } from './test-support/suites/securitySuite.js';

// On the embedded PGlite; gateway.postgres.int.test.ts runs the same on a PostgreSQL server.
const pglite = { name: 'PGlite', url: () => undefined };
apiSuite(pglite);
securitySuite(pglite);

describe('gateway: OpenAPI and Swagger UI', () => {
  it('serves the OpenAPI document generated from the route schemas, and Swagger UI from its own files', async () => {
    const h = await startHarness({ config: { docs: true } });
    try {
      const doc = (await (await call(h.gateway, '/docs/json')).json()) as {
        openapi: string;
        paths: Record<string, Record<string, { requestBody?: unknown }>>;
      };
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/v1/chat/completions',
          '/v1/models',
          '/admin/keys',
          '/admin/keys/{id}/rotate',
          '/health',
          '/health/detailed',
        ]),
      );
      expect(doc.paths['/v1/chat/completions']?.post?.requestBody).toBeDefined();
      const page = await call(h.gateway, '/docs/static/index.html');
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('swagger');
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing from another host
    } finally {
      await h.close();
    }
  }, 120_000);
});
