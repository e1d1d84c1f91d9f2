// Every failure answered in OpenAI's error shape, naming the field at fault and never a key.
import type { Logger } from '@tollgate/core';
import type { FastifyError, FastifyInstance } from 'fastify';
import { HttpError } from '../errors.js';

interface ValidationIssue {
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: { readonly missingProperty?: string; readonly additionalProperty?: string };
}

/** `/messages/0/role` → `messages[0].role`; a missing property is named itself. */
export function fieldName(issue: ValidationIssue): string {
  const parts = (issue.instancePath ?? '').split('/').filter(Boolean);
  const extra = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  if (extra) parts.push(extra);
  return parts.reduce((name, p) => (/^\d+$/.test(p) ? `${name}[${p}]` : name ? `${name}.${p}` : p), '');
}

/** The HttpError a fastify error stands for. */
export function toHttpError(
  error: FastifyError & { validation?: ValidationIssue[]; validationContext?: string },
): HttpError {
  if (HttpError.is(error)) return error;
  if (error.validation?.length) {
    const issue = error.validation[0]!;
    const field = fieldName(issue);
    const where = error.validationContext === 'body' ? 'body' : (error.validationContext ?? 'request');
    const what = issue.params?.additionalProperty
      ? 'is not a known field'
      : (issue.message ?? 'is not valid');
    return new HttpError(400, 'invalid_request', `Invalid request ${where}: \`${field || where}\` ${what}.`, {
      param: field || undefined,
    });
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError(413, 'request_too_large', 'The request body is larger than the gateway accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError(415, 'unsupported_media_type', 'Send the body as application/json.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError(400, 'invalid_json', 'The request body is empty; send JSON.');
  }
  if (error.statusCode === 400 && error instanceof SyntaxError)
    return new HttpError(400, 'invalid_json', 'The request body is not valid JSON.');
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
    return new HttpError(error.statusCode, 'invalid_request', 'The request could not be read.');
  return new HttpError(500, 'internal_error', 'The gateway failed to answer; the failure is logged.', {
    type: 'server_error',
    cause: error,
  });
}

/** Installs the error and not-found handlers. */
export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const http = toHttpError(error);
    if (http.status >= 500)
      logger.error('request failed', {
        method: request.method,
        url: request.routeOptions.url,
        error: String(error.message),
      });
    void reply.code(http.status).headers(http.headers).send(http.toJSON());
  });
  app.setNotFoundHandler((request, reply) => {
    const http = new HttpError(404, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`);
    void reply.code(404).send(http.toJSON());
  });
}
