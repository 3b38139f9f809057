import { buildTimeline, sessionFacts, timelinePage, type TimelineEvent } from './timeline';

const at = (hhmm: string) => new Date(`2026-12-06T${hhmm}:00Z`);

const event = (id: string, created: string, over: Partial<TimelineEvent> = {}): TimelineEvent => ({
  id,
  created_at: at(created),
  event_type: 'call_started',
  source: 'webhook',
  status: 'processed',
  delivery_count: 1,
  attempts: 1,
  replay_count: 0,
  error: null,
  payload: { event: 'call_started', call: { call_id: 'call_1', from_number: '+491604366218' } },
  ...over,
});

const reconcile = {
  reconcile_checked_at: null,
  reconcile_stopped_at: null,
  reconcile_not_found_count: 0,
  reconcile_failure_count: 0,
  reconcile_analysis_checks: 0,
};

describe('buildTimeline', () => {
  it("puts a call's events, functions, forwards and reconciliation in time order, each with its counts", () => {
    const timeline = buildTimeline({
      call: { ...reconcile, reconcile_checked_at: at('10:20'), reconcile_not_found_count: 2 },
      events: [
        event('2', '10:10', {
          event_type: 'call_analyzed',
          status: 'failed',
          delivery_count: 2,
          attempts: 3,
          replay_count: 1,
          error: 'CRM unreachable',
        }),
        event('1', '10:00'),
      ],
      functions: [
        {
          created_at: at('10:01'),
          name: 'check_availability',
          status: 'ok',
          duration_ms: 180,
          replays: 2,
          error: null,
        },
      ],
      forwards: [
        {
          created_at: at('10:11'),
          event_type: 'call_analyzed',
          destination_id: '7',
          status: 'failed',
          attempts: 4,
          last_status_code: 503,
          last_error: 'unavailable',
        },
      ],
    });
    expect(timeline.map((e) => [e.at, e.kind, e.what, e.status, e.details])).toEqual([
      ['2026-12-06 10:00:00', 'event', 'call_started (webhook)', 'processed', 'delivered 1×, attempts 1'],
      ['2026-12-06 10:01:00', 'function', 'function check_availability', 'ok', '180 ms, answered 2× from the record'],
      [
        '2026-12-06 10:10:00',
        'event',
        'call_analyzed (webhook)',
        'failed',
        'delivered 2×, attempts 3, replayed 1× - CRM unreachable',
      ],
      [
        '2026-12-06 10:11:00',
        'forward',
        'forward call_analyzed to destination 7',
        'failed',
        'attempts 4, last answer 503 - unavailable',
      ],
      [
        '2026-12-06 10:20:00',
        'reconcile',
        'reconciliation asked Retell',
        '',
        'not found 2×, failed 0×, analysis checks 0',
      ],
    ]);
  });

  it('leaves reconciliation out until it has asked, and says when it stopped polling', () => {
    const none = buildTimeline({ call: reconcile, events: [], functions: [], forwards: [] });
    expect(none).toEqual([]);
    const stopped = buildTimeline({
      call: { ...reconcile, reconcile_checked_at: at('11:00'), reconcile_stopped_at: at('11:00') },
      events: [],
      functions: [],
      forwards: [],
    });
    expect(stopped[0]).toMatchObject({ kind: 'reconcile', status: 'stopped polling' });
  });
});

describe('sessionFacts', () => {
  it('lists set fields with times formatted and numbers masked, without transcript or analysis', () => {
    const facts = sessionFacts({
      call_id: 'call_1',
      from_number: '+491604366218',
      started_at: at('10:00'),
      ended_at: null,
      transcript: 'Agent: Hello',
      analysis: { call_successful: true },
      metadata: { caller: '+491604366218' },
    });
    expect(facts).toEqual([
      ['call_id', 'call_1'],
      ['from_number', '+49****18'],
      ['started_at', '2026-12-06 10:00:00'],
      ['metadata', '{"caller":"+49****18"}'],
    ]);
    expect(sessionFacts(undefined)).toEqual([]);
  });
});

describe('timelinePage', () => {
  const empty = { events: [], functions: [], forwards: [] };

  it('titles a chat as a chat, and masks numbers in the payloads', () => {
    const page = timelinePage('chat_1', { ...empty, chat: { chat_id: 'chat_1' }, events: [event('5', '09:00')] });
    expect(page.title).toBe('Chat chat_1');
    expect(page.status).toBe(200);
    expect(page.data.payloads).toHaveLength(1);
    expect(page.data.payloads[0]!.json).toContain('+49****18');
    expect(page.data.payloads[0]!.json).not.toContain('+491604366218');
  });

  it('answers 404 for an id with neither a session nor events, 200 for events alone', () => {
    expect(timelinePage('call_nobody', empty)).toMatchObject({ title: 'Call call_nobody', status: 404 });
    expect(timelinePage('call_early', { ...empty, events: [event('1', '10:00')] }).status).toBe(200);
  });
});
