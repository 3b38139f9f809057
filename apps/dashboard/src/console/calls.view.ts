import type { CallRow } from '@callsync/db/ops';
import { maskPhoneNumber } from '@callsync/logger';
import { when } from './format';

/** How a call ended, in a word or two, for the calls list. */
export function outcome(c: CallRow): string {
  if (c.call_status === 'in_progress') return 'in progress';
  if (c.call_successful === true) return 'successful';
  if (c.call_successful === false) return 'unsuccessful';
  return c.disconnection_reason ?? '';
}

/** One row of the calls list: its start, company, the customer's number masked, its outcome. */
export function callView(c: CallRow) {
  return {
    ...c,
    started: when(c.started_at),
    company: c.company_name ?? c.company_id ?? 'unmapped',
    customer: maskPhoneNumber((c.direction === 'outbound' ? c.to_number : c.from_number) ?? ''),
    outcome: outcome(c),
  };
}
