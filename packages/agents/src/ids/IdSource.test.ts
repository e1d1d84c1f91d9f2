import { describe, expect, it } from 'vitest';
import { IdSource } from './IdSource.js';

describe('IdSource', () => {
  it('numbers ids from 1 per prefix, each source on its own', () => {
    const one = new IdSource();
    const two = new IdSource();
    expect([one.next('agent'), one.next('agent'), one.next('agent-1/task')]).toEqual([
      'agent-1',
      'agent-2',
      'agent-1/task-1',
    ]);
    expect(two.next('agent')).toBe('agent-1');
  });
});
