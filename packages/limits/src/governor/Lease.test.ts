import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { parseResourceLimits } from '../config/parseResourceLimits.js';
import { Lease, type LeaseOwner } from './Lease.js';
import { ResourceGovernor } from './ResourceGovernor.js';

/** An owner that records what its leases ask of it. */
function recordingOwner(calls: string[]): LeaseOwner {
  return {
    settleLease: (lease, actual) => calls.push(`settle ${lease.id} ${JSON.stringify(actual)}`),
    releaseLease: (lease) => calls.push(`release ${lease.id}`),
    endHoldLease: (lease) => calls.push(`endHold ${lease.id}`),
  };
}

describe('Lease public shape (kept from earlier releases)', () => {
  it('the positional constructor still makes a lease, its handles as the ticket', () => {
    const calls: string[] = [];
    const handles = [{ n: 1 }, undefined];
    const lease = new Lease(recordingOwner(calls), 7, { requests: 1 }, 42, handles, [1, 0], 1, true);
    expect(lease.id).toBe(7);
    expect(lease.cost).toEqual({ requests: 1 });
    expect(lease.acquiredAt).toBe(42);
    expect(lease.handles).toBe(handles);
    expect(lease.amounts).toEqual([1, 0]);
    expect(lease.slots).toBe(1);
    expect(lease.held).toBe(true);
    lease.endHold();
    lease.settle({ requests: 1 });
    lease.release();
    lease.release();
    expect(calls).toEqual(['endHold 7', 'settle 7 {"requests":1}', 'release 7']);
  });

  it('the grant constructor gives the same lease', () => {
    const calls: string[] = [];
    const ticket = [{ n: 1 }];
    const grant = { id: 3, cost: { tokens: 5 }, acquiredAt: 1, amounts: [5], slots: 0, held: false, ticket };
    const lease = new Lease(recordingOwner(calls), grant);
    expect([lease.id, lease.acquiredAt, lease.slots, lease.held]).toEqual([3, 1, 0, false]);
    expect(lease.handles).toBe(ticket);
  });

  it('a ResourceGovernor lease shows a reservation handle per rate, none where it took nothing', async () => {
    const governor = new ResourceGovernor(
      parseResourceLimits({ maxRequestsPerMinute: 10, maxTokensPerMinute: 100 }),
      { clock: new ManualClock() },
    );
    const lease = await governor.acquire({ requests: 1 });
    const rates = governor.checkResourceAvailability().remaining;
    expect(lease.handles).toHaveLength(Object.keys(rates).length);
    expect(lease.handles.filter((h) => h !== undefined)).toHaveLength(1);
    lease.release();
    governor.dispose();
  });
});
