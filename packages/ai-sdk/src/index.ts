// The public API of @tollgate/ai-sdk.
export { type GovernToolsOptions, governTools } from './governTools.js';
export {
  checkTollgateMiddlewareOptions,
  type PromptEstimate,
  TOLLGATE_MIDDLEWARE_DEFAULTS,
  type TollgateMiddlewareOptions,
} from './options.js';
export { type TollgateMiddleware, tollgateMiddleware } from './tollgateMiddleware.js';
