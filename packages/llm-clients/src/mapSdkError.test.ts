import Anthropic from '@anthropic-ai/sdk';
import { ApiError } from '@google/genai';
import { AbortError } from '@tollgate/core';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { anthropicError } from './anthropic/errors.js';
import { CallDeadline, DeadlineExpired } from './callDeadline.js';
import {
  MalformedResponseError,
  ProviderConnectionError,
  ProviderError,
  ProviderRateLimitError,
} from './errors.js';
import { geminiError } from './gemini/errors.js';
import { mapSdkError, type SdkErrorRungs } from './mapSdkError.js';
import { toProviderError } from './openai/errorMapping.js';

/** A made-up SDK: its abort and connection errors are API errors too, as in the Anthropic and OpenAI SDKs. */
class FakeApiError extends Error {
  constructor(readonly status: number | undefined) {
    super(`status ${status}`);
  }
}
class FakeAbort extends FakeApiError {}
class FakeConnection extends FakeApiError {}

const rungs: SdkErrorRungs<FakeApiError> = {
  provider: 'fake',
  isAbort: (e) => e instanceof FakeAbort,
  isConnection: (e) => e instanceof FakeConnection,
  isApiError: (e) => e instanceof FakeApiError,
  fromApiError: (e) => new ProviderError('refused', { provider: 'fake', status: e.status, cause: e }),
};

describe('mapSdkError: one ladder for every SDK', () => {
  it('passes Tollgate provider errors and aborts through untouched', () => {
    const own = new ProviderRateLimitError('slow down', { provider: 'other' });
    const abort = new AbortError('cancelled');
    expect(mapSdkError(own, rungs)).toBe(own);
    expect(mapSdkError(abort, rungs)).toBe(abort);
  });

  it("makes the call's own deadline a retryable connection error naming the timeout", () => {
    const expired = new DeadlineExpired(250);
    const error = mapSdkError(expired, rungs);
    expect(error).toBeInstanceOf(ProviderConnectionError);
    expect(error.message).toBe('fake: timed out: no reply within 250 ms');
    expect((error as ProviderConnectionError).isRetryable).toBe(true);
    expect(error.cause).toBe(expired);
  });

  it("makes the SDK's abort an AbortError, before its API-error rung", () => {
    const sdkAbort = new FakeAbort(undefined);
    const error = mapSdkError(sdkAbort, rungs);
    expect(AbortError.is(error)).toBe(true);
    expect(error.cause).toBe(sdkAbort);
  });

  it("makes the SDK's connection failure a connection error, before its API-error rung", () => {
    const refused = new FakeConnection(undefined);
    const error = mapSdkError(refused, rungs);
    expect(error).toBeInstanceOf(ProviderConnectionError);
    expect(error.message).toBe('fake: status undefined');
    expect(error.cause).toBe(refused);
    const silent = Object.assign(new FakeConnection(undefined), { message: '' });
    expect(mapSdkError(silent, rungs).message).toBe('fake: connection failed');
  });

  it("hands the SDK's API error to fromApiError", () => {
    const error = mapSdkError(new FakeApiError(400), rungs) as ProviderError;
    expect(error).toBeInstanceOf(ProviderError);
    expect(error.status).toBe(400);
    expect(error.message).toBe('fake: refused (status 400)');
  });

  it('makes an unreadable reply (SyntaxError, TypeError) a MalformedResponseError with the request id, if any', () => {
    const syntax = mapSdkError(new SyntaxError('Unexpected token <'), rungs);
    expect(syntax).toBeInstanceOf(MalformedResponseError);
    expect(syntax.message).toBe('fake: unreadable reply: Unexpected token <');
    expect((syntax as MalformedResponseError).requestId).toBeUndefined();
    const type = mapSdkError(new TypeError('x is undefined'), { ...rungs, requestId: 'req_1' });
    expect(type).toBeInstanceOf(MalformedResponseError);
    expect((type as MalformedResponseError).requestId).toBe('req_1');
  });

  it('returns any other error as it is, and wraps what is not an Error', () => {
    const other = new RangeError('out of range');
    expect(mapSdkError(other, rungs)).toBe(other);
    const wrapped = mapSdkError('a string', rungs);
    expect(wrapped).toBeInstanceOf(ProviderError);
    expect(wrapped.message).toBe('fake: a string');
  });
});

describe("each SDK's errors reach the same rungs", () => {
  const deadline = new CallDeadline(undefined, 60_000);
  const detect = () => undefined;
  const viaAnthropic = (e: unknown) => anthropicError(e, deadline, 'anthropic', detect);
  const viaGemini = (e: unknown) =>
    geminiError(e, deadline, { provider: 'gemini', requestId: 'req_g', detect });
  const viaOpenAI = (e: unknown) => toProviderError(e, 'openai', detect);
  deadline.clear();

  it('aborts', () => {
    expect(AbortError.is(viaAnthropic(new Anthropic.APIUserAbortError()))).toBe(true);
    expect(AbortError.is(viaOpenAI(new OpenAI.APIUserAbortError()))).toBe(true);
    const fetchAbort = Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
    expect(AbortError.is(viaGemini(fetchAbort))).toBe(true);
  });

  it('connection failures', () => {
    const anthropic = viaAnthropic(new Anthropic.APIConnectionError({ message: 'ECONNREFUSED' }));
    expect(anthropic).toBeInstanceOf(ProviderConnectionError);
    expect(anthropic.message).toBe('anthropic: ECONNREFUSED');
    expect(viaOpenAI(new OpenAI.APIConnectionError({ message: 'reset' }))).toBeInstanceOf(
      ProviderConnectionError,
    );
    const gemini = viaGemini(new TypeError('fetch failed'));
    expect(gemini).toBeInstanceOf(ProviderConnectionError);
    expect((gemini as ProviderConnectionError).requestId).toBeUndefined();
  });

  it("the call's deadline: OpenAI's as the SDK's own timeout, as before", () => {
    expect(viaAnthropic(new DeadlineExpired(10)).message).toBe('anthropic: timed out: no reply within 10 ms');
    const openai = viaOpenAI(new DeadlineExpired(10));
    expect(openai).toBeInstanceOf(ProviderConnectionError);
    expect(openai.message).toMatch(/^openai: .*timed out/i);
    expect(openai.cause).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
  });

  it('API errors with their status', () => {
    const headers = new Headers();
    const anthropic = viaAnthropic(Anthropic.APIError.generate(500, { error: {} }, 'boom', headers));
    expect((anthropic as ProviderError).status).toBe(500);
    const openai = viaOpenAI(OpenAI.APIError.generate(503, { error: {} }, 'down', headers));
    expect((openai as ProviderError).status).toBe(503);
    const gemini = viaGemini(new ApiError({ message: '{"error":{"message":"bad"}}', status: 400 }));
    expect(gemini.message).toBe('gemini: bad (status 400, request req_g)');
  });

  it('unreadable replies, with the request id where the client knows it', () => {
    expect(viaAnthropic(new SyntaxError('bad json'))).toBeInstanceOf(MalformedResponseError);
    expect(viaOpenAI(new TypeError('no choices'))).toBeInstanceOf(MalformedResponseError);
    const gemini = viaGemini(new TypeError('cannot read candidates'));
    expect(gemini).toBeInstanceOf(MalformedResponseError);
    expect((gemini as MalformedResponseError).requestId).toBe('req_g');
  });
});
