import { InvalidArgumentError } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { costOf, priceOf } from '../pricing.js';
import { defineTool } from './defineTool.js';
import { ToolRegistry } from './ToolRegistry.js';

describe('defineTool', () => {
  it('generates the JSON schema the provider is sent, descriptions and optionals included', () => {
    const tool = defineTool({
      name: 'fetch_page',
      description: 'Fetches a page',
      parameters: z.object({
        url: z.string().describe('Absolute URL'),
        maxBytes: z.number().int().positive().optional(),
      }),
      execute: () => '',
    });
    expect(tool.definition).toEqual({
      name: 'fetch_page',
      description: 'Fetches a page',
      parameters: {
        type: 'object',
        properties: {
          url: { type: 'string', description: 'Absolute URL' },
          maxBytes: { type: 'integer', exclusiveMinimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        },
        required: ['url'],
      },
    });
  });

  it('rejects bad names, schemas that are not objects and bad timeouts with typed errors', () => {
    const spec = { description: 'x', parameters: z.object({}), execute: () => 1 };
    expect(() => defineTool({ ...spec, name: 'has space' })).toThrow(InvalidArgumentError);
    expect(() => defineTool({ ...spec, name: 'x'.repeat(65) })).toThrow(/1-64 characters/);
    expect(() => defineTool({ ...spec, name: 'ok', parameters: z.string() })).toThrow(/zod object schema/);
    expect(() => defineTool({ ...spec, name: 'ok', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});

describe('ToolRegistry', () => {
  it('refuses two tools of one name and lists definitions in order', () => {
    const make = (name: string) =>
      defineTool({ name, description: name, parameters: z.object({}), execute: () => name });
    const registry = new ToolRegistry([make('a'), make('b')]);
    expect(registry.names).toEqual(['a', 'b']);
    expect(registry.definitions().map((d) => d.name)).toEqual(['a', 'b']);
    expect(() => registry.register(make('a'))).toThrow(InvalidArgumentError);
  });
});

describe('pricing', () => {
  it('prices dated variants by the longest matching name, and unknown models at 0', () => {
    expect(priceOf('gpt-4o-mini-2024-07-18')).toEqual(priceOf('gpt-4o-mini'));
    expect(priceOf('gpt-4o-2024-08-06')).toEqual(priceOf('gpt-4o'));
    expect(priceOf('mystery-model')).toBeUndefined();
    const usage = { promptTokens: 2_000_000, completionTokens: 1_000_000, totalTokens: 3_000_000 };
    expect(costOf('gpt-4o-mini', usage)).toBeCloseTo(2 * 0.15 + 0.6, 10);
    expect(costOf('mystery-model', usage)).toBe(0);
  });
});
