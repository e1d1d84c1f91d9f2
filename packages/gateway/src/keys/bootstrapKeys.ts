// At start: the config's keys and admin key into the database, or a first admin key when there is none.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@tollgate/core';
import { type GatewayKeyConfig, PERMISSIONS } from '../config/GatewayConfig.js';
import { hashApiKey } from './apiKey.js';
import type { KeyStore } from './KeyStore.js';

/** What {@link bootstrapKeys} did. */
export interface BootstrapResult {
  /** When no key existed: the file (mode 0600) holding the admin key created. */
  readonly adminKeyFile?: string | undefined;
}

/**
 * Puts every configured key (by name: created, or updated to the configured hash,
 * permissions and limits) and `adminKey` (named `admin`, every permission). When the
 * database then holds no key at all, creates an admin key and writes it to a new private
 * file: the key itself is never logged, only where it is.
 */
export async function bootstrapKeys(
  store: KeyStore,
  keys: readonly GatewayKeyConfig[],
  adminKey: string | undefined,
  logger: Logger,
): Promise<BootstrapResult> {
  for (const k of keys) {
    await store.put(
      { name: k.name, permissions: k.permissions ?? ['read', 'write'], limits: k.limits ?? null },
      k.keyHash ?? hashApiKey(k.key!),
    );
  }
  if (adminKey)
    await store.put({ name: 'admin', permissions: PERMISSIONS, limits: null }, hashApiKey(adminKey));
  if ((await store.list()).length > 0) return {};
  const created = await store.create({ name: 'admin', permissions: PERMISSIONS });
  if (!created) return {}; // another replica made it at the same time
  const { key } = created;
  const dir = mkdtempSync(join(tmpdir(), 'tollgate-gateway-'));
  const adminKeyFile = join(dir, 'admin-key');
  writeFileSync(adminKeyFile, `${key}\n`, { mode: 0o600 });
  logger.info('no keys were configured: an admin key was created', { adminKeyFile });
  return { adminKeyFile };
}
