// Who a request comes from, once its API key or JWT has been checked.
import type { ResourceLimits } from '@tollgate/limits';
import type { Permission } from '../config/GatewayConfig.js';

/** An authenticated caller: a stored API key, or the subject of a verified JWT. */
export interface Principal {
  /** Stable id: the key's id, or `jwt:` and the token's `sub`. Used for governors and usage. */
  readonly id: string;
  /** Shown in lists, events and logs. */
  readonly name: string;
  readonly kind: 'key' | 'jwt';
  readonly permissions: ReadonlySet<Permission>;
  /** Its own limits, or `undefined` for the defaults. */
  readonly limits: ResourceLimits | undefined;
}
