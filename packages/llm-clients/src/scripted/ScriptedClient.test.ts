import { InvalidArgumentError } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { ScriptedClient } from './ScriptedClient.js';

describe('ScriptedClient', () => {
  it('rejects options out of range, naming each', () => {
    expect(() => new ScriptedClient({ script: [], delayMs: -5, model: '' })).toThrow(
      /ScriptedClient\.model.*ScriptedClient\.delayMs/s,
    );
    expect(() => new ScriptedClient({ script: 'hello' as never })).toThrow(InvalidArgumentError);
    expect(() => new ScriptedClient({} as never)).toThrow(/script/);
  });
});
