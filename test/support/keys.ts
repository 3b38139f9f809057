import { SecretKeyring } from '@callsync/domain';
import { TEST_SECRET_KEY } from './env';

/** The keyring of TEST_SECRET_KEY: what the processes tests start use too. */
export const TEST_KEYS = new SecretKeyring({ current: TEST_SECRET_KEY, previous: [] });
