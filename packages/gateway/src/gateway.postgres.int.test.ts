import { describePostgres } from '../../limits/src/test-support/postgresSuite.js';
import { apiSuite } from './test-support/suites/apiSuite.js';
import { securitySuite } from './test-support/suites/securitySuite.js';

describePostgres('gateway on a PostgreSQL server', import.meta.url, 'gateway', (database) => {
  // Each gateway gets a database of its own.
  const postgres = { name: 'PostgreSQL', url: database };
  apiSuite(postgres);
  securitySuite(postgres);
});
