import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { metricsTable } from './test-support/metricsTable.js';

it('docs/observability.md lists every metric as METRICS defines it', () => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'observability.md'), 'utf8');
  expect(doc, 'paste the output of metricsTable() into the doc').toContain(metricsTable());
});
