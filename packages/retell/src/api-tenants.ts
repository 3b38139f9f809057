import type { ProviderAgent, ProviderNumber } from '@callsync/domain';
import { z } from 'zod';

/** One page of any Retell list endpoint. */
export function listPageSchema<T>(item: z.ZodType<T>) {
  return z.looseObject({
    items: z.array(item),
    has_more: z.boolean().optional().default(false),
    pagination_key: z.string().nullish(),
  });
}

/** An item of POST /v2/list-agents (voice and chat agents). */
export const apiAgentSchema = z.looseObject({
  agent_id: z.string().min(1),
  agent_name: z.string().nullish(),
  channel: z.string().nullish(),
  version: z.number().int().nullish(),
});
export type ApiAgent = z.infer<typeof apiAgentSchema>;

const boundAgents = z.array(z.looseObject({ agent_id: z.string().min(1) })).nullish();

/**
 * An item of GET /v2/list-phone-numbers. Agents are bound as weighted lists (inbound_agents, ...);
 * older answers carry inbound_agent_id / outbound_agent_id. Both are read.
 */
export const apiPhoneNumberSchema = z.looseObject({
  phone_number: z.string().min(1),
  nickname: z.string().nullish(),
  inbound_agent_id: z.string().nullish(),
  outbound_agent_id: z.string().nullish(),
  inbound_agents: boundAgents,
  outbound_agents: boundAgents,
  inbound_sms_agents: boundAgents,
  outbound_sms_agents: boundAgents,
});
export type ApiPhoneNumber = z.infer<typeof apiPhoneNumberSchema>;

/** Every agent a number is bound to, the main inbound and outbound one first. */
export function boundAgentIds(n: ApiPhoneNumber): { inbound: string | null; outbound: string | null; all: string[] } {
  const inbound = n.inbound_agent_id ?? n.inbound_agents?.[0]?.agent_id ?? null;
  const outbound = n.outbound_agent_id ?? n.outbound_agents?.[0]?.agent_id ?? null;
  const lists = [n.inbound_agents, n.outbound_agents, n.inbound_sms_agents, n.outbound_sms_agents];
  const all = new Set<string>([inbound, outbound].filter((a): a is string => a !== null));
  for (const list of lists) for (const a of list ?? []) all.add(a.agent_id);
  return { inbound, outbound, all: [...all] };
}

/** An agent in callsync's terms (channel `voice` or `chat` is its type). */
export function toProviderAgent(a: ApiAgent): ProviderAgent {
  const type = a.channel === 'chat' ? 'chat' : a.channel === 'voice' ? 'voice' : null;
  return { agent_id: a.agent_id, name: a.agent_name ?? null, version: a.version ?? null, type };
}

/** A number in callsync's terms: its main inbound and outbound agent, and every agent bound to it. */
export function toProviderNumber(n: ApiPhoneNumber): ProviderNumber {
  const bound = boundAgentIds(n);
  return {
    phone_number: n.phone_number,
    nickname: n.nickname ?? null,
    inbound_agent_id: bound.inbound,
    outbound_agent_id: bound.outbound,
    agent_ids: bound.all,
  };
}
