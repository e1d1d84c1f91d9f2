/** What the queue needs of a waiter. */
export interface QueueItem {
  /** Increases with every push: orders waiters of equal priority by arrival. */
  readonly seq: number;
  /** A finite number; higher goes first. */
  readonly priority: number;
  /** One bit per limit the waiter needs. */
  readonly mask: number;
  /** Set when the waiter leaves the queue (granted, timed out, aborted). */
  done: boolean;
}

/** The most bits a mask may use: limits get bits 0..MAX_BITS-1. */
export const MAX_BITS = 31;

/** Left waiters kept before a compaction is worth it, so small queues do not copy often. */
const MIN_COMPACT = 32;

/**
 * Waiters in order of priority (high first), then of arrival. Removal is lazy (a flag),
 * so aborting one of 10,000 waiters is O(1); left waiters are dropped from the array once
 * they outnumber the live ones, wherever they are, so removals stay amortised O(1) and a
 * queue never holds more than about twice its live waiters. The queue keeps a count of
 * waiters per mask bit so the governor can tell which limits anyone is waiting for
 * without a scan.
 *
 * Iterating is safe while the queue changes: an iterator remembers the last waiter it
 * gave, not an index, and finds its place again whenever positions shift (a compaction or
 * an insertion ahead of the tail). It never skips a live waiter that was behind its
 * position and never gives one twice.
 */
export class WaitQueue<T extends QueueItem> {
  #items: T[] = [];
  /** Every waiter before this position has left: scans start here. */
  #start = 0;
  #size = 0;
  /** Bumped whenever positions shift, so iterators know to find their place again. */
  #layout = 0;
  readonly #bitCounts = new Array<number>(MAX_BITS).fill(0);
  /** The bits whose count is above 0, kept as counts change (read on every acquire). */
  #liveMask = 0;

  /** Waiters still in the queue. */
  get size(): number {
    return this.#size;
  }

  /** Array slots in use, left waiters included (never more than about twice `size`). */
  get footprint(): number {
    return this.#items.length;
  }

  /** The first live waiter, if any. */
  get head(): T | undefined {
    for (const item of this) return item;
    return undefined;
  }

  /** The union of the masks of every waiter in the queue. */
  liveMask(): number {
    return this.#liveMask;
  }

  push(item: T): void {
    const items = this.#items;
    const last = items[items.length - 1];
    if (!last || last.priority >= item.priority) {
      items.push(item);
    } else {
      // First position whose priority is lower than the newcomer's.
      let lo = 0;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (items[mid]!.priority >= item.priority) lo = mid + 1;
        else hi = mid;
      }
      items.splice(lo, 0, item);
      if (lo < this.#start) this.#start = lo; // ahead of the waiters that left
      this.#layout++;
    }
    this.#size++;
    this.#count(item.mask, 1);
  }

  /** Takes `item` out of the queue; a no-op if it is already out. */
  remove(item: T): void {
    if (item.done) return;
    item.done = true;
    this.#size--;
    this.#count(item.mask, -1);
    const items = this.#items;
    while (this.#start < items.length && items[this.#start]!.done) this.#start++;
    const left = items.length - this.#size;
    if (this.#size === 0 || (left > MIN_COMPACT && left > this.#size)) this.#compact();
  }

  /** Live waiters in order. The queue may change while iterating (see the class). */
  *[Symbol.iterator](): IterableIterator<T> {
    let layout = this.#layout;
    let next = this.#start;
    let last: T | undefined;
    for (;;) {
      if (layout !== this.#layout) {
        layout = this.#layout;
        next = last ? this.#indexAfter(last) : this.#start;
      }
      next = Math.max(next, this.#start);
      const item = this.#items[next++];
      if (!item) return;
      if (item.done) continue;
      last = item;
      yield item;
    }
  }

  /** Removes and returns every live waiter. */
  drain(): T[] {
    const live = [...this];
    for (const item of live) this.remove(item);
    return live;
  }

  /** The first position whose waiter comes after `item` in queue order. */
  #indexAfter(item: T): number {
    const items = this.#items;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = items[mid]!;
      const before =
        other.priority > item.priority || (other.priority === item.priority && other.seq <= item.seq);
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #count(mask: number, by: number): void {
    const counts = this.#bitCounts;
    for (let m = mask, bit = 0; m !== 0; m >>>= 1, bit++) {
      if ((m & 1) === 0) continue;
      const count = counts[bit]! + by;
      counts[bit] = count;
      if (count === 0) this.#liveMask &= ~(1 << bit);
      else this.#liveMask |= 1 << bit;
    }
  }

  #compact(): void {
    this.#items = this.#size === 0 ? [] : this.#items.filter((item) => !item.done);
    this.#start = 0;
    this.#layout++;
  }
}
