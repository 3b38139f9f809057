export { FakeRetell } from './fake-retell';
export type { FakeBehaviour, FakeLlm, FakeRetellOptions, RecordedRequest } from './fake-retell';
