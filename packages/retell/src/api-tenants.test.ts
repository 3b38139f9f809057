import { apiAgentSchema, apiPhoneNumberSchema, toProviderAgent, toProviderNumber } from './api-tenants';

/** Retell's agents and numbers in the domain's terms (its ProviderAgent and ProviderNumber). */
describe("Retell's tenants as the provider port gives them", () => {
  it("an agent: name, version, and its channel as the agent's type", () => {
    const agent = (fields: Record<string, unknown>) =>
      toProviderAgent(apiAgentSchema.parse({ agent_id: 'a', ...fields }));
    expect(agent({ agent_name: 'Front desk', version: 3, channel: 'voice' })).toEqual({
      agent_id: 'a',
      name: 'Front desk',
      version: 3,
      type: 'voice',
    });
    expect(agent({ channel: 'chat' }).type).toBe('chat');
    expect(agent({ channel: 'carrier-pigeon' })).toEqual({ agent_id: 'a', name: null, version: null, type: null });
  });

  it('a number: the main inbound and outbound agent from the weighted lists, and every agent bound to it', () => {
    const n = toProviderNumber(
      apiPhoneNumberSchema.parse({
        phone_number: '+4930123',
        nickname: 'Praxis',
        inbound_agents: [{ agent_id: 'in_1' }, { agent_id: 'in_2' }],
        outbound_agents: [{ agent_id: 'out_1' }],
        inbound_sms_agents: [{ agent_id: 'sms_1' }, { agent_id: 'in_1' }],
      }),
    );
    expect(n).toEqual({
      phone_number: '+4930123',
      nickname: 'Praxis',
      inbound_agent_id: 'in_1',
      outbound_agent_id: 'out_1',
      agent_ids: ['in_1', 'out_1', 'in_2', 'sms_1'],
    });
  });

  it('a number from an older answer: inbound_agent_id and outbound_agent_id win', () => {
    const n = toProviderNumber(
      apiPhoneNumberSchema.parse({
        phone_number: '+4930124',
        inbound_agent_id: 'legacy_in',
        inbound_agents: [{ agent_id: 'listed_in' }],
      }),
    );
    expect(n).toMatchObject({ nickname: null, inbound_agent_id: 'legacy_in', outbound_agent_id: null });
    expect(n.agent_ids).toEqual(['legacy_in', 'listed_in']);
  });
});
