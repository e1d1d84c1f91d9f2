import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type QueueItem, WaitQueue } from './WaitQueue.js';

interface Item extends QueueItem {
  readonly id: number;
}

function makeQueue() {
  const queue = new WaitQueue<Item>();
  let seq = 0;
  const add = (priority = 0): Item => {
    const item: Item = { id: seq, seq: seq++, priority, mask: 1, done: false };
    queue.push(item);
    return item;
  };
  return { queue, add };
}

/** The order a queue must keep: priority high first, then arrival. */
const byQueueOrder = (a: Item, b: Item) => b.priority - a.priority || a.seq - b.seq;

describe('WaitQueue', () => {
  it('gives every live waiter once when each is removed while iterating, across compactions', () => {
    const { queue, add } = makeQueue();
    for (let i = 0; i < 5000; i++) add();
    const seen: number[] = [];
    for (const item of queue) {
      seen.push(item.id);
      queue.remove(item);
    }
    expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    expect(queue.size).toBe(0);
  });

  it('keeps its place when waiters ahead are removed or inserted during iteration', () => {
    const { queue, add } = makeQueue();
    const items = Array.from({ length: 3000 }, () => add());
    const seen: number[] = [];
    let n = 0;
    for (const item of queue) {
      seen.push(item.id);
      // remove a block of earlier and later waiters, and insert ahead of the iterator
      if (n++ === 100) for (const other of items.slice(0, 2000)) if (other !== item) queue.remove(other);
      if (n === 150) add(5);
    }
    // Every waiter still in the queue when the iterator reached its place was given, once.
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.slice(0, 101)).toEqual(Array.from({ length: 101 }, (_, i) => i));
    expect(seen.slice(101)).toEqual(Array.from({ length: 1000 }, (_, i) => 2000 + i));
  });

  it('stays ordered and gives each live waiter once under any pushes and removals while iterating (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('push' as const), priority: fc.integer({ min: -2, max: 2 }) }),
            fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
            fc.record({ kind: fc.constant('step' as const) }),
          ),
          { maxLength: 400 },
        ),
        (ops) => {
          const { queue, add } = makeQueue();
          const all: Item[] = [];
          for (let i = 0; i < 60; i++) all.push(add(i % 3));
          const iterator = queue[Symbol.iterator]();
          const given: Item[] = [];
          for (const op of ops) {
            if (op.kind === 'push') all.push(add(op.priority));
            else if (op.kind === 'remove' && all.length > 0) queue.remove(all[op.pick % all.length]!);
            else {
              const next = iterator.next();
              if (!next.done) given.push(next.value);
            }
            const live = all.filter((item) => !item.done).sort(byQueueOrder);
            expect([...queue]).toEqual(live);
            expect(queue.size).toBe(live.length);
            expect(queue.footprint).toBeLessThanOrEqual(2 * live.length + 33);
          }
          expect(new Set(given).size).toBe(given.length);
        },
      ),
    );
  });

  it('finds the head in amortised O(1) while waiters leave from the front (each batch no slower)', () => {
    const queue = new WaitQueue<Item>();
    let reads = 0;
    const items = Array.from({ length: 20_000 }, (_, i) => {
      let done = false;
      const item = {
        id: i,
        seq: i,
        priority: 0,
        mask: 1,
        get done() {
          reads++;
          return done;
        },
        set done(value: boolean) {
          done = value;
        },
      };
      queue.push(item);
      return item;
    });
    const readsPerBatch: number[] = [];
    for (let batch = 0; batch < 4; batch++) {
      reads = 0;
      for (const item of items.slice(batch * 4_000, (batch + 1) * 4_000)) {
        queue.remove(item);
        expect(queue.head).toBe(items[item.id + 1]);
      }
      readsPerBatch.push(reads);
    }
    // A few reads per removal, the same in every batch: no rescanning of those that left.
    for (const n of readsPerBatch) expect(n).toBeLessThan(10 * 4_000);
  });

  it('frees left waiters behind a head that stays: memory follows the live waiters', () => {
    const { queue, add } = makeQueue();
    add(); // the head, blocked for the whole test
    for (let i = 0; i < 100_000; i++) queue.remove(add());
    expect(queue.size).toBe(1);
    expect(queue.footprint).toBeLessThan(40);
  });
});
