import { take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { EventHub } from './EventHub.js';
import type { GovernorEvent, ResourceStatus } from './types.js';

const status = () => ({ governor: 'g' }) as unknown as ResourceStatus;

describe('EventHub', () => {
  it('knows whether anyone listens to events, however subscribers leave', () => {
    const hub = new EventHub('g', () => 5, status);
    expect(hub.observed).toBe(false);
    const seen: GovernorEvent[] = [];
    const a = hub.events$.subscribe((e) => seen.push(e));
    const b = hub.events$.subscribe(() => {});
    expect(hub.observed).toBe(true);
    hub.emit({ type: 'disposed' });
    expect(seen).toEqual([{ type: 'disposed', governor: 'g', at: 5 }]);
    a.unsubscribe();
    expect(hub.observed).toBe(true);
    b.unsubscribe();
    b.unsubscribe();
    expect(hub.observed).toBe(false);
    // A subscriber that leaves from inside its first event.
    const once: GovernorEvent[] = [];
    hub.events$.pipe(take(1)).subscribe((e) => once.push(e));
    expect(hub.observed).toBe(true);
    hub.emit({ type: 'disposed' }, 9);
    expect(once).toEqual([{ type: 'disposed', governor: 'g', at: 9 }]);
    expect(hub.observed).toBe(false);
    hub.emit({ type: 'disposed' });
    expect(seen).toHaveLength(1);
  });

  it('counts no listener once closed, nor one that subscribes after', () => {
    const hub = new EventHub('g', () => 0, status);
    let completed = 0;
    hub.events$.subscribe({ complete: () => completed++ });
    hub.close();
    expect(completed).toBe(1);
    expect(hub.observed).toBe(false);
    hub.events$.subscribe({ complete: () => completed++ });
    expect(completed).toBe(2);
    expect(hub.observed).toBe(false);
  });

  it('sends status after changes only while someone watches, once per microtask', async () => {
    let reads = 0;
    const hub = new EventHub(
      'g',
      () => 0,
      () => {
        reads++;
        return status();
      },
    );
    hub.changed();
    await Promise.resolve();
    expect(reads).toBe(0);
    const got: ResourceStatus[] = [];
    const sub = hub.status$.subscribe((s) => got.push(s));
    expect(got).toHaveLength(1); // the status on subscribe
    hub.changed();
    hub.changed();
    await Promise.resolve();
    expect(got).toHaveLength(2);
    sub.unsubscribe();
    hub.changed();
    await Promise.resolve();
    expect(reads).toBe(2);
    // One that leaves on its first status stops the change reads too.
    hub.status$.pipe(take(1)).subscribe(() => {});
    expect(reads).toBe(3);
    hub.changed();
    await Promise.resolve();
    expect(reads).toBe(3);
  });
});
