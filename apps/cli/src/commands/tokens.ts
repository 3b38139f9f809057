import type { ProcessConfig } from '@callsync/config';

type Config = ProcessConfig<'cli'>;
import { type Db } from '@callsync/db';
import { findCompany, listApiTokens, revokeApiToken } from '@callsync/db/tenants';
import { createApiToken } from '@callsync/domain';
import { runSubcommands, UsageError, type SubcommandValues } from '../subcommands';
import { table } from '../table';

export const TOKENS_USAGE = `usage: make tokens ARGS="<subcommand> ..."

Bearer tokens for the context API (GET /api/calls/:call_id/context). A company's token reads that
company's calls only; any other call answers 404. Only a hash of each token is stored.

  add --company C [--description TEXT]
                     a token for one company (its id or exact name); printed once, on a line of its own
  add --all [--description TEXT]
                     an operator token: every company's calls (as CALLSYNC_API_TOKENS are)
  list [--all]       ids, companies, descriptions, created and last used; --all: revoked ones too
  revoke ID          the token stops working at once`;

const when = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) : '-');

async function run(db: Db, _config: Config, positionals: string[], values: SubcommandValues): Promise<number> {
  const [command, arg] = positionals;
  const description = typeof values.description === 'string' ? values.description : null;
  switch (command) {
    case 'add': {
      const ref = typeof values.company === 'string' ? values.company : undefined;
      if (!ref === !values.all)
        throw new UsageError('say whose calls the token reads: --company NAME, or --all for every company');
      let companyId: string | null = null;
      let whose = 'every company (operator token)';
      if (ref) {
        const company = await findCompany(db, ref);
        if (!company) throw new UsageError(`no company "${ref}" (make tenants ARGS=list shows them)`);
        companyId = company.id;
        whose = `company "${company.name}" only`;
      }
      const { token, stored } = await createApiToken(db, { companyId, description });
      console.log(`token ${stored.id} for ${whose}; shown only now, store it where your functions run:`);
      console.log(token);
      return 0;
    }
    case 'list': {
      const tokens = await listApiTokens(db, { all: values.all === true });
      console.log(
        table(
          tokens.map((t) => ({
            id: t.id,
            company: t.company_id === null ? '(all: operator)' : `${t.company_name} (${t.company_id})`,
            description: t.description ?? '',
            created: when(t.created_at),
            last_used: when(t.last_used_at),
            ...(values.all ? { revoked: when(t.revoked_at) } : {}),
          })),
          ['id', 'company', 'description', 'created', 'last_used', ...(values.all ? ['revoked'] : [])],
        ),
      );
      return 0;
    }
    case 'revoke': {
      if (!arg) throw new UsageError('missing ID (make tokens ARGS=list shows them)');
      if (!(await revokeApiToken(db, arg))) throw new UsageError(`no active token ${arg} (make tokens ARGS=list)`);
      console.log(`token ${arg} revoked`);
      return 0;
    }
  }
  throw new UsageError(command ? `unknown subcommand: ${command}` : 'missing subcommand');
}

/** `make tokens`: company-scoped context API tokens. */
export async function tokensCommand(config: Config, argv: string[]): Promise<number> {
  return runSubcommands(config, argv, {
    usage: TOKENS_USAGE,
    applicationName: 'callsync-tokens',
    options: {
      company: { type: 'string' },
      description: { type: 'string' },
      all: { type: 'boolean', default: false },
    },
    run,
  });
}
