export { loadConfig, ConfigError, childEnvironment } from './config';
export type { Config, RetentionPolicy } from './config';
