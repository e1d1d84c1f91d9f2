import { BUILTIN_RATES, LIMIT_FIELDS, toSnakeCase } from '@tollgate/limits';
import { describe, expect, it } from 'vitest';
import { limitProperties, limitsSchema } from './schemas.js';

describe('the limits schema of /admin/keys', () => {
  it('has exactly the fields of ResourceLimits, in both spellings', () => {
    expect(Object.keys(limitProperties).sort()).toEqual([...LIMIT_FIELDS].sort());
    const names = Object.keys(limitsSchema.properties);
    expect(names).toHaveLength(new Set([...LIMIT_FIELDS, ...LIMIT_FIELDS.map(toSnakeCase)]).size);
  });

  it("takes each built-in rate's fields and algorithm name from the limits table", () => {
    for (const rate of BUILTIN_RATES) {
      expect(limitProperties).toHaveProperty(rate.limit);
      if (rate.burst) expect(limitProperties).toHaveProperty(rate.burst);
      expect(limitProperties.algorithms.properties).toHaveProperty(rate.name);
    }
    expect(Object.keys(limitProperties.algorithms.properties)).toHaveLength(BUILTIN_RATES.length);
  });
});
