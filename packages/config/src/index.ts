export { loadConfig, ConfigError, childEnvironment } from './config';
export type { Config } from './config';
