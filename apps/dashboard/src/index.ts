export { createDashboardApp, BOARD_PATH } from './app';
export type { DashboardOptions } from './app';
export { basicAuth } from './basic-auth';
