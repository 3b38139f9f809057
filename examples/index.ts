export { checkAvailability } from './functions/check-availability';
