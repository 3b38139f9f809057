export { checkAvailability, EXAMPLE_SLOTS_TABLE_SQL } from './functions/check-availability';
