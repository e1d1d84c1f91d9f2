import { conversationSuite } from './test-support/suites/conversationSuite.js';

conversationSuite({ name: 'PGlite', url: () => undefined });
