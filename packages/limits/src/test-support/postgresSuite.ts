// A describe block with one throwaway PostgreSQL server for all its tests, skipped loudly when PostgreSQL is missing.
import { afterAll, beforeAll, describe } from 'vitest';
import { type PostgresServer, postgresService, startPostgres } from './postgresServer.js';
import { hasService } from './services.js';

/**
 * Declares the suite `title` around one PostgreSQL server, started before its tests and
 * stopped after them. `body` gets `database()`, which creates an empty database of its own
 * (`PREFIX_1`, `PREFIX_2`, …) each time it is called and returns its URL; call it only while
 * tests run. Without PostgreSQL the suite is skipped as `hasService` says (a failure under CI).
 *
 * @param suiteUrl the suite file's `import.meta.url`
 * @param prefix how the suite's database names begin
 */
export function describePostgres(
  title: string,
  suiteUrl: string,
  prefix: string,
  body: (database: () => string) => void,
): void {
  describe.skipIf(!hasService(postgresService, suiteUrl))(title, () => {
    let server: PostgresServer | undefined;
    let databases = 0;
    beforeAll(async () => {
      server = await startPostgres();
    }, 120_000);
    afterAll(() => server?.stop());
    body(() => {
      if (!server) throw new Error(`${title}: the PostgreSQL server is not running (called outside a test?)`);
      return server.createDatabase(`${prefix}_${++databases}`);
    });
  });
}
