// The errors a governor throws live in @tollgate/core; they are here too, next to the governor.
export {
  AbortError,
  DisposedError,
  InvalidArgumentError,
  InvalidLimitsError,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  TaskTimeoutError,
  TollgateError,
} from '@tollgate/core';
export { LIMIT_FIELDS, parseResourceLimits, toSnakeCase } from './config/parseResourceLimits.js';
export {
  BUILTIN_RATES,
  type BuiltinRate,
  type BuiltinRateName,
  DEFAULT_LIMITS,
  MAX_DURATION_MS,
  type ParsedResourceLimits,
  type RateAlgorithm,
  type RateLimitSpec,
  type ResolvedRate,
  type ResourceLimits,
  resolveRates,
} from './config/ResourceLimits.js';
export {
  envName,
  type ResourceLimitsFromEnvOptions,
  resourceLimitsFromEnv,
} from './config/resourceLimitsFromEnv.js';
export { resourceLimitsFromFile } from './config/resourceLimitsFromFile.js';
export type { Governor, GovernorLease } from './governor/Governor.js';
export { Lease } from './governor/Lease.js';
export { DEFAULT_PROBE_COST, ResourceGovernor } from './governor/ResourceGovernor.js';
export type {
  AcquireOptions,
  ActualUsage,
  GovernorEvent,
  GovernorEventType,
  LimitStatus,
  ResourceCost,
  ResourceGovernorOptions,
  ResourceStatus,
  RunTaskOptions,
} from './governor/types.js';
export {
  type MemoryProbe,
  ProcessMemoryProbe,
  type ProcessMemoryProbeOptions,
  StaticMemoryProbe,
} from './memory/MemoryProbe.js';
export { createRateLimiter } from './rates/createRateLimiter.js';
export { describeRate, type RateLimiter, type RateReservation } from './rates/RateLimiter.js';
export { SlidingWindow } from './rates/SlidingWindow.js';
export { TokenBucket } from './rates/TokenBucket.js';
export {
  DistributedGovernor,
  type DistributedGovernorOptions,
  DistributedLease,
  type StoreDownPolicy,
} from './store/DistributedGovernor.js';
export { StoreUnavailableError } from './store/errors.js';
export { MemoryQuotaStore } from './store/MemoryQuotaStore.js';
export type {
  AcquireReply,
  QuotaConfig,
  QuotaStore,
  StoreRate,
  StoreRequest,
  StoreStatus,
} from './store/QuotaStore.js';
export { RedisQuotaStore, type RedisQuotaStoreOptions } from './store/RedisQuotaStore.js';
