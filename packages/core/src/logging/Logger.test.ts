import { describe, expect, it } from 'vitest';
import { ConsoleLogger } from './Logger.js';

describe('ConsoleLogger', () => {
  it('drops lines below its level and appends fields as JSON', () => {
    const lines: string[] = [];
    const push = (l: string) => lines.push(l);
    const logger = new ConsoleLogger({
      level: 'warn',
      prefix: 'gov',
      sink: { debug: push, info: push, warn: push, error: push },
    });
    logger.info('hidden');
    logger.warn('slow', { waitedMs: 12 });
    logger.error('bad');
    expect(lines).toEqual(['[gov] warn: slow {"waitedMs":12}', '[gov] error: bad']);
  });
});
