import { failStartup } from '@callsync/runtime';
import { benchCommand } from './bench/command';
import { chaosCommand } from './chaos/command';

const USAGE = `usage: node packages/testkit/dist/main.js <command>   (make chaos, make bench)

  chaos   prove that nothing acknowledged is lost while things break (--help for flags)
  bench   measure ingress, workers, latency and memory against a bare-Express baseline`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'chaos':
      return chaosCommand(args);
    case 'bench':
      return benchCommand(args);
    default:
      console.error(command ? `unknown command: ${command}\n\n${USAGE}` : USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), failStartup);
