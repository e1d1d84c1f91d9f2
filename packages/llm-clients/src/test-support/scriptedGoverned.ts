// Test harness: a GovernedClient over a ScriptedClient on a manual clock, with its events recorded.
import { HeuristicTokenCounter, type ManualClock } from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import { GovernedClient } from '../governed/GovernedClient.js';
import type { ClientEvent, GovernedClientOptions } from '../governed/options.js';
import { type Script, ScriptedClient } from '../scripted/ScriptedClient.js';

/** The token counter of every harness client (fast and deterministic). */
export const testCounter = new HeuristicTokenCounter();

/**
 * A `GovernedClient` over a `ScriptedClient` of `script` (10 ms a reply), both on `clock`,
 * through `governors`, with jitter fixed at 0.5; `events` records its `events$`.
 */
export function scriptedGoverned(
  script: Script,
  clock: ManualClock,
  governors: readonly Governor[],
  options: Partial<GovernedClientOptions> = {},
) {
  const inner = new ScriptedClient({ script, clock, tokenCounter: testCounter, delayMs: 10 });
  const client = new GovernedClient(inner, {
    governors,
    tokenCounter: testCounter,
    clock,
    random: () => 0.5,
    ...options,
  });
  const events: ClientEvent[] = [];
  client.events$.subscribe((e) => events.push(e));
  return { inner, client, events };
}
