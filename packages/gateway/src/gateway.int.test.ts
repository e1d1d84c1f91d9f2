import { apiSuite } from './test-support/suites/apiSuite.js';
import { securitySuite } from './test-support/suites/securitySuite.js';

// On the embedded PGlite; gateway.postgres.int.test.ts runs the same on a PostgreSQL server.
const pglite = { name: 'PGlite', url: () => undefined };
apiSuite(pglite);
securitySuite(pglite);
