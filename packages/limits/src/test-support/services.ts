import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SKIPPED_SUITES_FILE, type SkippedSuite, skippedSuitesLine } from './skippedSuites.js';

/** A program some test suites need that a fresh machine may lack. */
export interface Service {
  readonly name: string;
  /** How to install it, as a command a reader can copy. */
  readonly install: string;
  available(): boolean;
}

/** `CI` set (and not `false` or `0`): every suite must run there. */
export function inCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * Whether a suite that needs `service` can run here. When the service is missing the suite
 * is to be skipped (`describe.skipIf(!hasService(...))`): it is recorded, and the test run
 * ends with one line naming every suite skipped and what to install. Under CI a missing
 * service is a failure instead: this throws, and the suite fails to load.
 *
 * @param suiteUrl the suite's `import.meta.url`
 * @param part what of the suite is skipped, when not all of it
 */
export function hasService(service: Service, suiteUrl: string, part?: string): boolean {
  if (service.available()) return true;
  const path = relative(process.cwd(), fileURLToPath(suiteUrl));
  const suite = part ? `${path} (${part})` : path;
  if (inCI())
    throw new Error(
      `${suite} needs ${service.name}, which is not installed, and CI is set: install it (${service.install}).`,
    );
  const skipped: SkippedSuite = { service: service.name, install: service.install, suite };
  const log = process.env[SKIPPED_SUITES_FILE];
  if (log) appendFileSync(log, `${JSON.stringify(skipped)}\n`);
  else console.warn(skippedSuitesLine([skipped])); // run without the global setup: say it here
  return false;
}
