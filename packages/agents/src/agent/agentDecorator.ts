// The `@agent()` decorator: a HybridAgent subclass injectable with the base class's deps.
import { injectable, injectFromBase } from 'inversify';

/**
 * Marks a `HybridAgent` subclass for `container.bind(MyAgent).toSelf()`: it takes the base
 * class's injected `AgentDeps`. Not needed with `bindAgent`. A subclass that declares its
 * own constructor parameters must decorate them with `@inject(TOKEN)` after the deps.
 */
export function agent(): ClassDecorator {
  return (target) => {
    injectFromBase({ extendConstructorArguments: true, extendProperties: true })(target);
    injectable()(target);
  };
}
