// The public API of @tollgate/simulator.
export {
  SIMULATOR_DEFAULTS,
  type SimulatorFaults,
  type SimulatorLatency,
  type SimulatorOptions,
  type SimulatorQuota,
} from './options.js';
export { formatReset } from './quota.js';
export { StrictWindow } from './StrictWindow.js';
export { type Simulator, startSimulator } from './server.js';
export type { SimulatorStats } from './stats.js';
