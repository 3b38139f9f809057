export { ConfigError, childEnvironment, requireSecretKey } from './config';
export type { Config, RetentionPolicy, SecretKeyMaterial } from './config';
export { DURATION_FORMAT, formatDuration, parseDuration } from './duration';
export { loadConfig, loadConfigFor } from './load';
export type { ProcessConfig } from './load';
export type { ProcessName } from './sections';
