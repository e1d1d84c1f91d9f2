import { describe, expect, it } from 'vitest';
import { linkAbort, onAbort } from './abort.js';
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

describe('onAbort', () => {
  it('calls each callback once with the reason, and not after it unsubscribed', () => {
    const parent = new AbortController();
    const seen: unknown[] = [];
    onAbort(parent.signal, (r) => seen.push(['a', r]));
    const stop = onAbort(parent.signal, (r) => seen.push(['b', r]));
    onAbort(parent.signal, (r) => seen.push(['c', r]));
    stop();
    parent.abort('why');
    parent.abort('again');
    expect(seen).toEqual([
      ['a', 'why'],
      ['c', 'why'],
    ]);
  });

  it('calls at once for a signal already aborted', () => {
    const seen: unknown[] = [];
    onAbort(AbortSignal.abort('done'), (r) => seen.push(r));
    expect(seen).toEqual(['done']);
  });

  it('adds one listener to the signal however many subscribe, and fans out to 100,000 in one pass', () => {
    const parent = new AbortController();
    let added = 0;
    const add = parent.signal.addEventListener.bind(parent.signal);
    parent.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      added++;
      add(...args);
    }) as AbortSignal['addEventListener'];
    let calls = 0;
    const stops = Array.from({ length: 100_000 }, () => onAbort(parent.signal, () => calls++));
    for (const stop of stops.slice(0, 50_000)) stop();
    parent.abort();
    expect(added).toBe(1);
    expect(calls).toBe(50_000);
  });
});
