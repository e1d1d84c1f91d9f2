import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasService, type Service } from './services.js';
import { SKIPPED_SUITES_FILE, skippedSuitesLine } from './skippedSuites.js';

const missing: Service = {
  name: 'made-up-server',
  install: 'apt-get install -y made-up-server',
  available: () => false,
};
const present: Service = { ...missing, available: () => true };
const suiteUrl = new URL('some/suite.test.ts', `file://${process.cwd()}/`).href;

describe('hasService', () => {
  const saved = { ci: process.env.CI, file: process.env[SKIPPED_SUITES_FILE] };
  let log: string;
  beforeEach(() => {
    log = join(mkdtempSync(join(tmpdir(), 'tollgate-services-')), 'skipped.jsonl');
    process.env[SKIPPED_SUITES_FILE] = log;
  });
  afterEach(() => {
    for (const [key, value] of [
      ['CI', saved.ci],
      [SKIPPED_SUITES_FILE, saved.file],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('runs a suite whose service is there, and records nothing', () => {
    delete process.env.CI;
    expect(hasService(present, suiteUrl)).toBe(true);
    expect(() => readFileSync(log)).toThrow(/ENOENT/);
  });

  it('skips a suite whose service is missing and records it for the closing line', () => {
    process.env.CI = 'false';
    expect(hasService(missing, suiteUrl)).toBe(false);
    expect(hasService(missing, suiteUrl, 'its Redis section')).toBe(false);
    const recorded = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recorded.map((r) => r.suite)).toEqual([
      'some/suite.test.ts',
      'some/suite.test.ts (its Redis section)',
    ]);
    expect(skippedSuitesLine(recorded)).toBe(
      'SKIPPED, for want of a service: some/suite.test.ts, some/suite.test.ts (its Redis section) need made-up-server, ' +
        'which is not installed here (install it with: apt-get install -y made-up-server). With CI set, they fail instead.',
    );
  });

  it('fails a suite whose service is missing under CI, saying what to install', () => {
    process.env.CI = 'true';
    expect(() => hasService(missing, suiteUrl)).toThrow(
      'some/suite.test.ts needs made-up-server, which is not installed, and CI is set: install it (apt-get install -y made-up-server).',
    );
    expect(() => readFileSync(log)).toThrow(/ENOENT/);
  });
});
