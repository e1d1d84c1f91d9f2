import { InvalidArgumentError } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import { defineTool } from './defineTool.js';

function errorOf(parameters: unknown): InvalidArgumentError {
  try {
    defineTool({
      name: 'search',
      description: 'Searches',
      parameters: parameters as z.ZodType,
      execute: () => '',
    });
  } catch (error) {
    if (InvalidArgumentError.is(error)) return error;
    throw error;
  }
  throw new Error('defineTool accepted the schema');
}

describe('defineTool with a schema that is not a zod 4 schema', () => {
  it('names zod 4 and the version it got for a zod 3 schema', () => {
    const error = errorOf(z3.object({ query: z3.string() }));
    expect(error.argument).toBe('search.parameters');
    expect(error.message).toMatch(/zod 4 schema.*zod@\^4.*a zod 3 schema/);
  });

  it('names the version of a schema from another major version', () => {
    const schema = z.object({ query: z.string() });
    const future = { ...schema, _zod: { ...schema._zod, version: { major: 5, minor: 0, patch: 1 } } };
    expect(errorOf(future).message).toMatch(/a zod 5\.0\.1 schema/);
  });

  it('says what it got for something that is no zod schema at all', () => {
    expect(errorOf({ type: 'object' }).message).toMatch(/zod 4 schema.*\{"type":"object"\}/);
  });

  it('takes a zod 4 object schema', () => {
    const tool = defineTool({ name: 'a', description: 'a', parameters: z.object({}), execute: () => '' });
    expect(tool.definition.parameters).toMatchObject({ type: 'object' });
  });
});
