import { parseArgs } from 'node:util';
import type { Config } from '@callsync/config';
import { FakeRetell } from '@callsync/fake-retell';

/** Run the fake Retell API as a process (for `make up` without a Retell account). */
export async function fakeRetellCommand(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string', default: '3099' } } });
  const fake = new FakeRetell({ apiKeys: [config.retell.apiKey] });
  const url = await fake.start(Number(values.port));
  console.log(
    `fake Retell API on ${url} (get-call, get-chat, list-calls, list-chats, list-agents, list-phone-numbers; control under /__fake/)`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await fake.stop();
  return 0;
}
