import { loadConfig, loadConfigFor, type Config, type ProcessConfig } from '@callsync/config';
import { failStartup } from '@callsync/runtime';
import { auditCommand } from './commands/audit';
import { backfillCommand } from './commands/backfill';
import { backfillFieldsCommand } from './commands/backfill-fields';
import { demoCommand } from './commands/demo';
import { destinationsCommand } from './commands/destinations';
import { fakeRetellCommand } from './commands/fake-retell';
import { forgetCommand } from './commands/forget';
import { functionsCommand } from './commands/functions';
import { migrateCommand } from './commands/migrate';
import { reconcileCommand } from './commands/reconcile';
import { replayCommand } from './commands/replay';
import { statsCommand } from './commands/stats';
import { tenantsCommand } from './commands/tenants';
import { tokensCommand } from './commands/tokens';
import { callerHashesFor, keyringOf, migrateKeyedData } from './secret-key';

const USAGE = `usage: callsync <command>

  migrate       bring the database schema to the latest migration
  demo          send signed sample calls to the running ingress and print the result
  reconcile     one reconciliation pass against Retell's API now (--help for flags)
  stats         processing rate, stuck sessions and queue counts (--help for flags)
  replay        re-run failed (or chosen) events from Postgres (--help for flags)
  backfill      import calls and chats callsync never heard of, e.g. --since 7d
  audit         check every call and chat Retell listed is here, final, analyzed, forwarded (--help)
  tenants       companies and the agents and numbers they own (--help for subcommands)
  destinations  where applied events are forwarded: add, list, pause, resume, rotate-secret, test, remove
  tokens        context API tokens, one company's or every company's: add, list, revoke
  functions     Retell custom tools from the code's functions: export, check --llm ID, push --llm ID
  forget        erase one caller (--caller +49...) or calls (--call-id ID), here and at Retell
  backfill-fields  copy analysis and call fields into sessions stored before they were columns
  fake-retell   serve a fake Retell API on loopback (local runs without a Retell account)

make chaos and make bench live in packages/testkit, with the test harness.`;

/** Older variable names in use are said on stderr, once. */
function warned<C extends { warnings: readonly string[] }>(config: C): C {
  for (const warning of config.warnings) console.error(`warning: ${warning}`);
  return config;
}

/** The whole Config: for the commands that talk to Retell (or run callsync's processes, as demo does). */
function loadCliConfig(): Config {
  return warned(loadConfig());
}

/** Only what the commands on callsync's own data read: they run without RETELL_API_KEY. */
function loadLocalConfig(): ProcessConfig<'cli'> {
  return warned(loadConfigFor('cli'));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case 'migrate': {
      const config = loadLocalConfig();
      // Refused before anything changes when CALLSYNC_SECRET_KEY is missing.
      const keys = keyringOf(config);
      const code = await migrateCommand(config);
      return code === 0 ? migrateKeyedData(config, keys) : code;
    }
    case 'demo':
      return demoCommand(loadCliConfig(), args);
    case 'reconcile':
      return reconcileCommand(loadCliConfig(), args);
    case 'stats':
      return statsCommand(loadLocalConfig(), args);
    case 'replay':
      return replayCommand(loadLocalConfig(), args);
    case 'backfill':
      return backfillCommand(loadCliConfig(), args);
    case 'audit':
      return auditCommand(loadCliConfig(), args);
    case 'tenants':
      return tenantsCommand(loadCliConfig(), args);
    case 'destinations':
      return destinationsCommand(loadLocalConfig(), args);
    case 'tokens':
      return tokensCommand(loadLocalConfig(), args);
    case 'functions':
      // export reads no environment; check and push need Retell's key.
      return functionsCommand(loadCliConfig, args);
    case 'forget': {
      const config = loadCliConfig();
      // The key (and the database's salt) only when a caller is named: --help needs neither.
      return forgetCommand(config, args, async (n) => (await callerHashesFor(config, keyringOf(config)))(n));
    }
    case 'backfill-fields':
      return backfillFieldsCommand(loadLocalConfig(), args);
    case 'fake-retell':
      return fakeRetellCommand(loadCliConfig(), args);
    default:
      console.error(command ? `unknown command: ${command}\n\n${USAGE}` : USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), failStartup);
