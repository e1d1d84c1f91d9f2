// API keys and per-key usage in the database: create, list, rotate, revoke, look up, record.
import { randomUUID } from 'node:crypto';
import type { ResourceLimits } from '@tollgate/limits';
import type { Permission } from '../config/GatewayConfig.js';
import type { SqlRunner } from '../db/Database.js';
import { generateApiKey, hashApiKey } from './apiKey.js';

/** A key as stored: never the key itself, nor its hash, outside this module's lookups. */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly permissions: readonly Permission[];
  /** Its own limits; `null` for the defaults. */
  readonly limits: ResourceLimits | null;
  readonly createdAt: string;
  readonly rotatedAt: string | null;
  readonly revokedAt: string | null;
}

/** A key's record with its hash, for authentication only. */
export interface StoredKey extends ApiKeyRecord {
  readonly keyHash: string;
}

/** What a principal has used through the gateway. */
export interface KeyUsage {
  readonly requests: number;
  /** Requests answered 429 by the gateway for this key's own limits. */
  readonly rejected: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly costUsd: number;
}

/** Usage to add to a principal's totals. */
export type UsageDelta = Partial<KeyUsage>;

/** What creating a key takes. */
export interface NewKey {
  readonly name: string;
  readonly permissions: readonly Permission[];
  readonly limits?: ResourceLimits | null | undefined;
}

interface KeyRow {
  id: string;
  name: string;
  key_hash: string;
  permissions: Permission[];
  limits: ResourceLimits | null;
  created_at: Date | string;
  rotated_at: Date | string | null;
  revoked_at: Date | string | null;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

function toStored(row: KeyRow): StoredKey {
  return {
    id: row.id,
    name: row.name,
    keyHash: row.key_hash,
    permissions: row.permissions,
    limits: row.limits,
    createdAt: iso(row.created_at)!,
    rotatedAt: iso(row.rotated_at),
    revokedAt: iso(row.revoked_at),
  };
}

/** The public part of a stored key. */
export function publicRecord(key: StoredKey): ApiKeyRecord {
  const { keyHash: _hash, ...record } = key;
  return record;
}

const COLUMNS = 'id, name, key_hash, permissions, limits, created_at, rotated_at, revoked_at';

/** Keys and usage, over parameterised SQL only. */
export class KeyStore {
  readonly #db: SqlRunner;

  constructor(db: SqlRunner) {
    this.#db = db;
  }

  /**
   * Creates a key named `spec.name`; the key is in the result and nowhere else, ever.
   * `undefined` when another key has that name.
   */
  async create(spec: NewKey): Promise<{ record: ApiKeyRecord; key: string } | undefined> {
    const key = generateApiKey();
    const rows = await this.#db.query<KeyRow>(
      `INSERT INTO api_keys (id, name, key_hash, permissions, limits) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        spec.name,
        hashApiKey(key),
        [...spec.permissions],
        spec.limits ? JSON.stringify(spec.limits) : null,
      ],
    );
    return rows[0] && { record: publicRecord(toStored(rows[0])), key };
  }

  /** Creates a key from a known hash, or updates (and un-revokes) the key of that name. */
  async put(spec: NewKey, keyHash: string): Promise<ApiKeyRecord> {
    const rows = await this.#db.query<KeyRow>(
      `INSERT INTO api_keys (id, name, key_hash, permissions, limits) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO UPDATE SET key_hash = EXCLUDED.key_hash, permissions = EXCLUDED.permissions,
         limits = EXCLUDED.limits, revoked_at = NULL
       RETURNING ${COLUMNS}`,
      [
        randomUUID(),
        spec.name,
        keyHash,
        [...spec.permissions],
        spec.limits ? JSON.stringify(spec.limits) : null,
      ],
    );
    return publicRecord(toStored(rows[0]!));
  }

  /** The key whose hash is `keyHash`, revoked or not. */
  async findByHash(keyHash: string): Promise<StoredKey | undefined> {
    const rows = await this.#db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1`, [
      keyHash,
    ]);
    return rows[0] && toStored(rows[0]);
  }

  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.#db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return rows[0] && publicRecord(toStored(rows[0]));
  }

  /** Every key, oldest first. */
  async list(): Promise<ApiKeyRecord[]> {
    const rows = await this.#db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at, name`);
    return rows.map((r) => publicRecord(toStored(r)));
  }

  /** Gives key `id` a new key; the old one stops working. `undefined` for no such (live) key. */
  async rotate(id: string): Promise<{ record: ApiKeyRecord; key: string } | undefined> {
    const key = generateApiKey();
    const rows = await this.#db.query<KeyRow>(
      `UPDATE api_keys SET key_hash = $2, rotated_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [id, hashApiKey(key)],
    );
    return rows[0] && { record: publicRecord(toStored(rows[0])), key };
  }

  /** Revokes key `id`; `undefined` for no such key. Revoking twice keeps the first time. */
  async revoke(id: string): Promise<ApiKeyRecord | undefined> {
    const rows = await this.#db.query<KeyRow>(
      `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`,
      [id],
    );
    return rows[0] && publicRecord(toStored(rows[0]));
  }

  /** Adds `delta` to `principal`'s usage. */
  async addUsage(principal: string, delta: UsageDelta): Promise<void> {
    await this.#db.query(
      `INSERT INTO key_usage (principal, requests, rejected, prompt_tokens, completion_tokens, cost_usd)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (principal) DO UPDATE SET requests = key_usage.requests + EXCLUDED.requests,
         rejected = key_usage.rejected + EXCLUDED.rejected,
         prompt_tokens = key_usage.prompt_tokens + EXCLUDED.prompt_tokens,
         completion_tokens = key_usage.completion_tokens + EXCLUDED.completion_tokens,
         cost_usd = key_usage.cost_usd + EXCLUDED.cost_usd, updated_at = now()`,
      [
        principal,
        delta.requests ?? 0,
        delta.rejected ?? 0,
        delta.promptTokens ?? 0,
        delta.completionTokens ?? 0,
        delta.costUsd ?? 0,
      ],
    );
  }

  /** `principal`'s usage (zeros when it has none). */
  async usage(principal: string): Promise<KeyUsage> {
    const rows = await this.#db.query<Record<string, string | number>>(
      'SELECT requests, rejected, prompt_tokens, completion_tokens, cost_usd FROM key_usage WHERE principal = $1',
      [principal],
    );
    const r = rows[0];
    return {
      requests: Number(r?.requests ?? 0),
      rejected: Number(r?.rejected ?? 0),
      promptTokens: Number(r?.prompt_tokens ?? 0),
      completionTokens: Number(r?.completion_tokens ?? 0),
      costUsd: Number(r?.cost_usd ?? 0),
    };
  }
}
