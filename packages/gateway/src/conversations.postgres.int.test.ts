import { describePostgres } from '../../limits/src/test-support/postgresSuite.js';
import { conversationSuite } from './test-support/suites/conversationSuite.js';

describePostgres('conversations on a PostgreSQL server', import.meta.url, 'conversations', (database) => {
  conversationSuite({ name: 'PostgreSQL', url: database });
});
