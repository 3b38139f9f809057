export { FakeRetell } from './fake-retell';
export type { FakeBehaviour, FakeRetellOptions, RecordedRequest } from './fake-retell';
