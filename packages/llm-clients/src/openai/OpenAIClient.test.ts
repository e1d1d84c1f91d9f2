import { InvalidArgumentError } from '@tollgate/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openai } from './OpenAIClient.js';

describe('openai() without an API key', () => {
  afterEach(() => vi.unstubAllEnvs());

  it.each([
    ['unset', undefined],
    ['empty', ''],
  ])('names the apiKey option and OPENAI_API_KEY when the variable is %s', (_, value) => {
    vi.stubEnv('OPENAI_API_KEY', value);
    let error: unknown;
    try {
      openai({ model: 'gpt-4o-mini' });
    } catch (e) {
      error = e;
    }
    expect(InvalidArgumentError.is(error), String(error)).toBe(true);
    expect((error as InvalidArgumentError).argument).toBe('apiKey');
    expect((error as Error).message).toMatch(/`apiKey` option of openai\(\).*OPENAI_API_KEY/);
  });

  it('names OPENAI_API_KEY too when an apiKey read from it is empty', () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    expect(() => openai({ model: 'gpt-4o-mini', apiKey: process.env.OPENAI_API_KEY })).toThrow(
      /`OpenAIClient.apiKey` to be a non-empty API key \(or leave it out and set OPENAI_API_KEY/,
    );
  });

  it('takes the key from OPENAI_API_KEY when no apiKey is given', () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-test');
    expect(openai({ model: 'gpt-4o-mini' }).model).toBe('gpt-4o-mini');
  });

  it('accepts an explicit apiKey when the variable is unset', () => {
    vi.stubEnv('OPENAI_API_KEY', undefined);
    expect(openai({ model: 'gpt-4o-mini', apiKey: 'sk-test' }).provider).toBe('openai');
  });
});
