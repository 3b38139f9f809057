import { parseArgs } from 'node:util';
import Retell from 'retell-sdk';
import type { Config } from '@callsync/config';
import { ingressFunctions } from '@callsync/ingress';
import { mergedTools, retellTools, toolDrift } from '../retell-tools';

export const FUNCTIONS_USAGE = `usage: make functions ARGS="<subcommand> --base-url URL ..."

Retell custom tools from the functions callsync serves (apps/ingress/src/functions.ts): name,
description, URL, method, the args' zod schema as JSON Schema, timeout_ms (the hard timeout plus 1 s)
and what the agent says while one runs.

  export --base-url URL          print every registered function as one JSON array of Retell custom tools
  check --llm LLM_ID --base-url URL
                                 compare with the LLM's general_tools at Retell (GET /get-retell-llm/{id});
                                 names every drift and exits 1 if there is any
  push --llm LLM_ID --base-url URL
                                 write them into the LLM (PATCH /update-retell-llm/{id}); other tools stay

URL is where Retell reaches callsync's live routes, e.g. https://live.callsync.example.`;

/** Retell's API, as retell-sdk calls it (its LLM types are the contract). */
function retellApi(config: Config): Retell {
  return new Retell({ apiKey: config.retell.apiKey, baseURL: config.retell.apiBaseUrl, maxRetries: 2 });
}

export async function functionsCommand(config: () => Config, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'base-url': { type: 'string' },
        llm: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${FUNCTIONS_USAGE}`);
    return 2;
  }
  const [command] = parsed.positionals;
  if (parsed.values.help || !command) {
    console.log(FUNCTIONS_USAGE);
    return parsed.values.help ? 0 : 2;
  }
  const baseUrl = parsed.values['base-url'];
  if (!baseUrl || !/^https?:\/\/[^/]+/.test(baseUrl)) {
    console.error(`--base-url must be the http(s) URL Retell reaches callsync at (got ${baseUrl ?? 'nothing'})`);
    return 2;
  }
  const tools = retellTools(ingressFunctions().values(), baseUrl);
  if (command === 'export') {
    console.log(JSON.stringify(tools, null, 2));
    return 0;
  }
  if (command !== 'check' && command !== 'push') {
    console.error(`unknown subcommand: ${command}\n\n${FUNCTIONS_USAGE}`);
    return 2;
  }
  const llmId = parsed.values.llm;
  if (!llmId) {
    console.error(`${command} needs --llm LLM_ID (the Retell LLM whose general_tools hold the functions)`);
    return 2;
  }
  const api = retellApi(config());
  let llm;
  try {
    llm = await api.llm.retrieve(llmId);
  } catch (err) {
    console.error(`cannot read LLM ${llmId} from Retell: ${(err as Error).message}`);
    return 1;
  }
  const drift = toolDrift(tools, llm.general_tools, baseUrl);
  if (command === 'check') {
    for (const d of drift) console.log(`drift: ${d.tool}: ${d.problem}`);
    console.log(
      drift.length
        ? `${drift.length} difference(s) between the code and LLM ${llmId}; make functions ARGS="push --llm ${llmId} --base-url ${baseUrl}" writes the code's tools`
        : `LLM ${llmId} has all ${tools.length} tools as the code defines them`,
    );
    return drift.length ? 1 : 0;
  }
  if (!drift.length) {
    console.log(`LLM ${llmId} already has all ${tools.length} tools as the code defines them; nothing to push`);
    return 0;
  }
  try {
    const updated = await api.llm.update(llmId, {
      general_tools: mergedTools(tools, llm.general_tools, baseUrl) as Retell.LlmUpdateParams['general_tools'],
    });
    for (const d of drift) console.log(`pushed: ${d.tool}: ${d.problem}`);
    console.log(`LLM ${llmId} updated (version ${updated.version ?? '?'}): ${tools.length} tools from the code`);
    return 0;
  } catch (err) {
    console.error(`cannot update LLM ${llmId} at Retell: ${(err as Error).message}`);
    return 1;
  }
}
