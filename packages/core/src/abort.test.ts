import { describe, expect, it } from 'vitest';
import { linkAbort } from './abort.js';
import { AbortError, TaskTimeoutError } from './errors/errors.js';

describe('linkAbort', () => {
  it('aborts with the parent and carries its reason as a typed error', () => {
    const parent = new AbortController();
    const child = linkAbort(parent.signal);
    parent.abort(new TaskTimeoutError(5));
    expect(child.signal.aborted).toBe(true);
    expect(TaskTimeoutError.is(child.signal.reason)).toBe(true);
    const plain = new AbortController();
    const other = linkAbort(plain.signal);
    plain.abort('stop');
    expect(AbortError.is(other.signal.reason)).toBe(true);
  });

  it('is born aborted under an aborted parent, and never aborts the parent', () => {
    const parent = new AbortController();
    parent.abort();
    expect(linkAbort(undefined, parent.signal).signal.aborted).toBe(true);
    const live = new AbortController();
    const child = linkAbort(live.signal);
    child.abort('mine');
    expect(child.signal.reason).toBe('mine');
    expect(live.signal.aborted).toBe(false);
  });

  it('leaves no listener on the parent once unlinked', () => {
    const parent = new AbortController();
    let added = 0;
    let removed = 0;
    const add = parent.signal.addEventListener.bind(parent.signal);
    const remove = parent.signal.removeEventListener.bind(parent.signal);
    parent.signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added++;
      add(...args);
    }) as typeof add;
    parent.signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      removed++;
      remove(...args);
    }) as typeof remove;
    for (let i = 0; i < 100; i++) linkAbort(parent.signal).unlink();
    expect(added).toBe(100);
    expect(removed).toBe(100);
    const child = linkAbort(parent.signal);
    child.unlink();
    parent.abort();
    expect(child.signal.aborted).toBe(false);
  });
});
