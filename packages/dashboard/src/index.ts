// The public API of @tollgate/dashboard.
export {
  type DashboardHandler,
  type DashboardHandlerOptions,
  dashboardHandler,
} from './dashboardHandler.js';
export {
  DASHBOARD_DEFAULTS,
  type Dashboard,
  type DashboardOptions,
  serveDashboard,
} from './serveDashboard.js';
export type {
  AgentView,
  CallsView,
  FleetView,
  GovernorView,
  HistoryPoint,
  LimitView,
  Snapshot,
} from './views.js';
