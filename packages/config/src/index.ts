export { loadConfig, ConfigError, childEnvironment, requireSecretKey } from './config';
export type { Config, RetentionPolicy, SecretKeyMaterial } from './config';
