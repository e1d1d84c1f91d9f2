import { afterAll, beforeAll, describe } from 'vitest';
import {
  type PostgresServer,
  postgresService,
  startPostgres,
} from '../../limits/src/test-support/postgresServer.js';
import { hasService } from '../../limits/src/test-support/services.js';
import { apiSuite } from './test-support/suites/apiSuite.js';
import { securitySuite } from './test-support/suites/securitySuite.js';

describe.skipIf(!hasService(postgresService, import.meta.url))('gateway on a PostgreSQL server', () => {
  let server: PostgresServer;
  let databases = 0;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(() => server?.stop());
  // Each gateway gets a database of its own.
  const postgres = { name: 'PostgreSQL', url: () => server.createDatabase(`gateway_${++databases}`) };
  apiSuite(postgres);
  securitySuite(postgres);
});
