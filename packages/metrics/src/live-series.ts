import { counter, histogram } from './series';

/** Answers given during a call: inbound webhooks, functions, the context API. */
export const liveSeries = {
  liveLatency: histogram(
    'callsync_live_request_seconds',
    'Time to answer requests made during a call, by endpoint (inbound, function, context), name and outcome.',
    ['endpoint', 'name', 'outcome'],
    [0.001, 0.0025, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  ),
  liveErrors: counter(
    'callsync_live_request_errors_total',
    'Requests during a call answered with an error or a fallback, by endpoint, name and outcome.',
    ['endpoint', 'name', 'outcome'],
  ),
};
