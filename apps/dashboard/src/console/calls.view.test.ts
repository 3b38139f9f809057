import type { CallRow } from '@callsync/db/ops';
import { callView, outcome } from './calls.view';

const call = (over: Partial<CallRow> = {}): CallRow => ({
  id: '1',
  call_id: 'call_1',
  company_id: null,
  company_name: null,
  agent_id: 'agent_a',
  call_status: 'ended',
  direction: 'inbound',
  from_number: '+491604366218',
  to_number: '+4930123456',
  started_at: new Date('2026-12-06T10:00:00Z'),
  ended_at: null,
  disconnection_reason: 'user_hangup',
  call_successful: null,
  ...over,
});

describe('calls list', () => {
  it("shows the customer's number masked: the caller inbound, the callee outbound", () => {
    expect(callView(call()).customer).toBe('+49****18');
    expect(callView(call({ direction: 'outbound' })).customer).toBe('+49****56');
    expect(callView(call({ from_number: null })).customer).toBe('');
  });

  it('names the company, or unmapped', () => {
    expect(callView(call({ company_id: '3', company_name: 'Weber' })).company).toBe('Weber');
    expect(callView(call()).company).toBe('unmapped');
    expect(callView(call()).started).toBe('2026-12-06 10:00:00');
  });

  it('sums up the outcome: in progress, the analysis, else why it ended', () => {
    expect(outcome(call({ call_status: 'in_progress', call_successful: true }))).toBe('in progress');
    expect(outcome(call({ call_successful: true }))).toBe('successful');
    expect(outcome(call({ call_successful: false }))).toBe('unsuccessful');
    expect(outcome(call())).toBe('user_hangup');
    expect(outcome(call({ disconnection_reason: null }))).toBe('');
  });
});
