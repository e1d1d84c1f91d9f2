// Which limits a demand needs, as a bit mask: what orders waiters (only those that share a bit keep their order).

/**
 * The limits `amounts` (per rate, in order) and `slots` need: bit `i` for rate `i`, the next
 * bit for the concurrency slots when slots are gated (a slot limit or a memory cap). A cost
 * no limit cares about gets the bit after that, so such costs stay in order behind each
 * other (they wait only in a cooldown).
 */
export function limitMask(amounts: readonly number[], slots: number, slotsGated: boolean): number {
  const taskBit = 1 << amounts.length;
  let mask = slots > 0 && slotsGated ? taskBit : 0;
  for (let i = 0; i < amounts.length; i++) if (amounts[i]! > 0) mask |= 1 << i;
  return mask === 0 ? taskBit << 1 : mask;
}
