export { createLogger } from './logger';
export type { Logger, LoggerOptions } from './logger';
export { maskPhoneNumber, redact } from './mask';
