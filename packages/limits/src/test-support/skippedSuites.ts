import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Names the file where suites skipped for want of a service are recorded, one JSON per line. */
export const SKIPPED_SUITES_FILE = 'TOLLGATE_SKIPPED_SUITES_FILE';

export interface SkippedSuite {
  readonly service: string;
  readonly install: string;
  readonly suite: string;
}

/** One line: every skipped suite, by the service it needs and how to install that. */
export function skippedSuitesLine(skipped: readonly SkippedSuite[]): string {
  const byService = new Map<string, { install: string; suites: Set<string> }>();
  for (const { service, install, suite } of skipped) {
    const entry = byService.get(service) ?? { install, suites: new Set<string>() };
    entry.suites.add(suite);
    byService.set(service, entry);
  }
  const parts = [...byService].map(
    ([service, { install, suites }]) =>
      `${[...suites].sort().join(', ')} need ${service}, which is not installed here (install it with: ${install})`,
  );
  return `SKIPPED, for want of a service: ${parts.join('; ')}. With CI set, they fail instead.`;
}

/**
 * The vitest global setup that makes skipped suites loud: suites that skip for want of a
 * service (see `hasService`) record themselves, and the run ends with one line naming them
 * and what to install.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-skipped-'));
  const file = join(dir, 'skipped.jsonl');
  process.env[SKIPPED_SUITES_FILE] = file;
  return () => {
    let lines: string[] = [];
    try {
      lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    } catch {
      // Nothing was skipped: the file was never written.
    }
    rmSync(dir, { recursive: true, force: true });
    if (lines.length > 0) console.log(`\n${skippedSuitesLine(lines.map((l) => JSON.parse(l)))}\n`);
  };
}
