// What the parts of one governed client share: its governors, clock, logger, stats and events.
import type { Clock, Logger } from '@tollgate/core';
import type { Governor } from '@tollgate/limits';
import type { ClientEvent, ClientStats } from './options.js';

/** The state and settings every part of one `GovernedClient` works with. */
export interface ClientContext {
  /** The provider's name, for errors and logs. */
  readonly provider: string;
  /** Every governor a call passes, in order. */
  readonly governors: readonly Governor[];
  /** The governor of the provider's quota (429 cooldowns, header feedback), if any. */
  readonly providerGovernor: Governor | undefined;
  /** How the provider counts tokens; see `GovernedClientOptions.providerCharging`. */
  readonly charging: 'admission' | 'usage';
  /** The `label` of every acquire. */
  readonly label: string | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly stats: ClientStats;
  /** Sends an event to `events$` (nothing is built when nobody listens). */
  emit(event: ClientEvent): void;
}
