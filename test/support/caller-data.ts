import { z } from 'zod';
import { type Db } from '@callsync/db';
import { pauseDestination } from '@callsync/db/forward';
import { addCompany, mapAgent } from '@callsync/db/tenants';
import { BUILTIN_FUNCTIONS, createDestination, defineFunction, functionRegistry } from '@callsync/domain';
import {
  sampleCall,
  sampleTransferBody,
  type FunctionRequestBody,
  type InboundCallRequest,
  type RetellCallObject,
} from '@callsync/retell';
import { newCallId } from './calls';
import { signedPost } from './live';
import { TEST_KEYS } from './keys';
import type { Pipeline, PipelineOptions } from './pipeline';

/*
 * A practice and its callers' data in every place callsync keeps it (sessions, events, inbound
 * records and answers, function calls, transfers, held forward bodies): what the erasure and
 * retention tests look for in a pg_dump afterwards.
 */

export const SUMMARY = 'braucht ein Rezept für Metformin und einen Rückruf.';

/** A team function whose args carry personal data. */
export const bookAppointment = defineFunction({
  name: 'book_appointment',
  description: 'test: books',
  args: z.object({ patient: z.string(), note: z.string() }),
  async handle(_ctx, { patient }) {
    return `Booked for ${patient}.`;
  },
});

/** The ingress options a practice's calls need (its function). */
export const practiceIngress: PipelineOptions['ingress'] = {
  functions: functionRegistry([...BUILTIN_FUNCTIONS, bookAppointment]),
};

/** Praxis Dr. Weber with its agent, and a paused destination that holds session bodies never sent. */
export async function setUpPractice(db: Db): Promise<void> {
  const company = await addCompany(db, 'Praxis Dr. Weber', 'Europe/Berlin');
  await mapAgent(db, 'agent_weber', company.id);
  const { destination } = await createDestination(db, TEST_KEYS, {
    url: 'https://crm.example.com/hooks',
    events: ['call_analyzed'],
    payloadMode: 'session',
  });
  await pauseDestination(db, destination.id, 'test');
}

export function callOf(
  callId: string,
  from: string,
  name: string,
  event: 'call_started' | 'call_analyzed',
): RetellCallObject {
  const c = sampleCall({ callId, agentId: 'agent_weber', fromNumber: from, startMs: Date.now() - 3_600_000 }, event);
  c.retell_llm_dynamic_variables = { customer_name: name };
  if (c.call_analysis) c.call_analysis = { ...c.call_analysis, call_summary: `${name} ${SUMMARY}` };
  return c;
}

/** A whole call of `from`, applied: inbound webhook, start, a function call, a transfer, the analysis. */
export async function wholeCall(
  p: Pipeline,
  c: { from: string; name: string; note: string },
): Promise<RetellCallObject> {
  const callId = newCallId('call');
  await signedPost(p.app, '/api/retell/inbound', {
    event: 'call_inbound',
    call_inbound: { from_number: c.from, to_number: '+493033081738', agent_id: 'agent_weber', call_id: callId },
  } satisfies InboundCallRequest);
  const ids = [
    (await p.deliver(JSON.stringify({ event: 'call_started', call: callOf(callId, c.from, c.name, 'call_started') })))
      .body.id,
  ];
  await signedPost(p.app, '/api/retell/functions/book_appointment', {
    name: 'book_appointment',
    args: { patient: c.name, note: c.note },
    call: callOf(callId, c.from, c.name, 'call_started'),
  } satisfies FunctionRequestBody);
  const transfer = JSON.parse(
    sampleTransferBody({ callId, agentId: 'agent_weber', fromNumber: c.from }, 'transfer_started', {
      destination: { number: '+493012345678', extension: '7' },
    }),
  );
  transfer.call.retell_llm_dynamic_variables = { customer_name: c.name };
  ids.push((await p.deliver(JSON.stringify(transfer))).body.id);
  const analyzed = callOf(callId, c.from, c.name, 'call_analyzed');
  ids.push((await p.deliver(JSON.stringify({ event: 'call_analyzed', call: analyzed }))).body.id);
  await p.settled(ids);
  return analyzed;
}
