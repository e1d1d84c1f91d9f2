import { afterAll, beforeAll, describe } from 'vitest';
import {
  type PostgresServer,
  postgresService,
  startPostgres,
} from '../../limits/src/test-support/postgresServer.js';
import { hasService } from '../../limits/src/test-support/services.js';
import { conversationSuite } from './test-support/suites/conversationSuite.js';

describe.skipIf(!hasService(postgresService, import.meta.url))('conversations on a PostgreSQL server', () => {
  let server: PostgresServer;
  let databases = 0;
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(() => server?.stop());
  conversationSuite({ name: 'PostgreSQL', url: () => server.createDatabase(`conversations_${++databases}`) });
});
