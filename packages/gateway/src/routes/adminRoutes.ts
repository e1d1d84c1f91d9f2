// /admin/keys: create, list, read, rotate and revoke API keys (admin permission).
import { InvalidLimitsError } from '@tollgate/core';
import { LIMIT_FIELDS, parseResourceLimits, type ResourceLimits, toSnakeCase } from '@tollgate/limits';
import type { FastifyPluginAsync } from 'fastify';
import { requirePermission } from '../auth/authHook.js';
import type { Permission } from '../config/GatewayConfig.js';
import { HttpError } from '../errors.js';
import type { ApiKeyRecord } from '../keys/KeyStore.js';
import type { GatewayServices } from '../services.js';
import { errorResponse, issuedKey, keyParams, keyRecord, newKeyBody } from './schemas.js';

interface NewKeyRequest {
  readonly name: string;
  readonly permissions: Permission[];
  readonly limits?: ResourceLimits;
}

const errors = {
  400: errorResponse,
  401: errorResponse,
  403: errorResponse,
  404: errorResponse,
  409: errorResponse,
};

const CAMEL = new Map<string, string>(LIMIT_FIELDS.map((f) => [toSnakeCase(f), f]));

/** Limits with camelCase names (as stored and answered), whichever spelling they came in. */
function camelLimits<T extends ResourceLimits | null | undefined>(limits: T): T {
  if (!limits) return limits;
  return Object.fromEntries(Object.entries(limits).map(([k, v]) => [CAMEL.get(k) ?? k, v])) as T;
}

/** PostgreSQL text holds neither NUL nor an unpaired UTF-16 surrogate. */
const storable = (text: string): boolean => !text.includes('\u0000') && !/[\uD800-\uDFFF]/u.test(text);

function checkName(name: string): void {
  if (!storable(name))
    throw new HttpError(
      400,
      'invalid_request',
      'Invalid request body: `name` must not contain NUL characters or unpaired surrogates.',
      { param: 'name' },
    );
}

function checkLimits(limits: unknown): ResourceLimits | undefined {
  if (limits === undefined) return undefined;
  try {
    parseResourceLimits(limits);
    return camelLimits(limits as ResourceLimits);
  } catch (error) {
    if (!InvalidLimitsError.is(error)) throw error;
    throw new HttpError(
      400,
      'invalid_request',
      `Invalid request body: \`limits.${error.field}\` must be ${error.expected}.`,
      {
        param: `limits.${error.field}`,
      },
    );
  }
}

/** Creates a key with a name no other key has. */
async function createKey({ keys }: GatewayServices, body: NewKeyRequest) {
  checkName(body.name);
  const limits = checkLimits(body.limits);
  const created = await keys.create({ ...body, limits });
  if (!created)
    throw new HttpError(409, 'key_name_taken', 'A key with that name exists; pick another name.', {
      param: 'name',
    });
  return { ...shown(created.record), key: created.key };
}

/** A record as answered: its limits with camelCase names. */
const shown = (record: ApiKeyRecord): ApiKeyRecord => ({ ...record, limits: camelLimits(record.limits) });

const notFound = () => new HttpError(404, 'key_not_found', 'No key with that id.');

/** The admin routes, as a fastify plugin over the gateway's services. */
export const adminRoutes: FastifyPluginAsync<GatewayServices> = async (app, services) => {
  const { keys, usage, authenticator } = services;
  const admin = requirePermission(services, 'admin');
  const withUsage = async (record: ApiKeyRecord) => {
    await usage.flush();
    return { ...shown(record), usage: await keys.usage(record.id) };
  };
  const route = (summary: string, schema: object) => ({
    onRequest: admin,
    schema: { tags: ['admin'], security: [{ bearer: [] }], summary, ...schema },
  });

  app.post<{ Body: NewKeyRequest }>(
    '/admin/keys',
    route('Create a key (the key is in this answer only)', {
      body: newKeyBody,
      response: { 201: issuedKey, ...errors },
    }),
    async (request, reply) => reply.code(201).send(await createKey(services, request.body)),
  );

  app.get(
    '/admin/keys',
    route('List keys with their usage (never the keys)', {
      response: {
        200: { type: 'object', properties: { data: { type: 'array', items: keyRecord } } },
        ...errors,
      },
    }),
    async () => ({
      data: await Promise.all((await keys.list()).map(withUsage)),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/admin/keys/:id',
    route('A key and its usage', { params: keyParams, response: { 200: keyRecord, ...errors } }),
    async (request) => {
      const record = await keys.get(request.params.id);
      if (!record) throw notFound();
      return withUsage(record);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/admin/keys/:id/rotate',
    route('Give a key a new key; the old one stops working', {
      params: keyParams,
      response: { 200: issuedKey, ...errors },
    }),
    async (request) => {
      const rotated = await keys.rotate(request.params.id);
      if (!rotated) throw notFound();
      authenticator.forget();
      return { ...shown(rotated.record), key: rotated.key };
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/admin/keys/:id',
    route('Revoke a key', { params: keyParams, response: { 200: keyRecord, ...errors } }),
    async (request) => {
      const record = await keys.revoke(request.params.id);
      if (!record) throw notFound();
      authenticator.forget();
      return shown(record);
    },
  );
};
