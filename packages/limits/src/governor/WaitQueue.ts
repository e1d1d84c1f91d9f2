/** What the queue needs of a waiter. */
export interface QueueItem {
  readonly seq: number;
  readonly priority: number;
  /** One bit per limit the waiter needs. */
  readonly mask: number;
  /** Set when the waiter leaves the queue (granted, timed out, aborted). */
  done: boolean;
}

/** The most bits a mask may use: limits get bits 0..MAX_BITS-1. */
export const MAX_BITS = 31;

/**
 * Waiters in order of priority (high first), then of arrival. Removal is lazy (a flag),
 * so aborting one of 10,000 waiters is O(1); the queue keeps a count of waiters per mask
 * bit so the governor can tell which limits anyone is waiting for without a scan.
 */
export class WaitQueue<T extends QueueItem> {
  #items: T[] = [];
  #head = 0;
  #size = 0;
  readonly #bitCounts = new Array<number>(MAX_BITS).fill(0);

  /** Waiters still in the queue. */
  get size(): number {
    return this.#size;
  }

  /** The union of the masks of every waiter in the queue. */
  liveMask(): number {
    let mask = 0;
    for (let bit = 0; bit < MAX_BITS; bit++) if (this.#bitCounts[bit]! > 0) mask |= 1 << bit;
    return mask;
  }

  push(item: T): void {
    const items = this.#items;
    const last = items[items.length - 1];
    if (!last || last.priority >= item.priority) {
      items.push(item);
    } else {
      // First position (after the head) whose priority is lower than the newcomer's.
      let lo = this.#head;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (items[mid]!.priority >= item.priority) lo = mid + 1;
        else hi = mid;
      }
      items.splice(lo, 0, item);
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
    this.#compact();
  }

  /** Live waiters in order. Removing the current waiter while iterating is safe. */
  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i]!;
      if (!item.done) yield item;
    }
  }

  /** Removes and returns every live waiter. */
  drain(): T[] {
    const live = [...this];
    for (const item of live) this.remove(item);
    return live;
  }

  #count(mask: number, by: number): void {
    for (let m = mask, bit = 0; m !== 0; m >>>= 1, bit++) if (m & 1) this.#bitCounts[bit]! += by;
  }

  #compact(): void {
    const items = this.#items;
    while (this.#head < items.length && items[this.#head]!.done) this.#head++;
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
  }
}
