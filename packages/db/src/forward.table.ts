import type { ColumnType, Generated, Selectable } from 'kysely';

export type DestinationState = 'active' | 'paused' | 'removed';
export type PayloadMode = 'raw' | 'session';
export type ForwardStatus = 'pending' | 'held' | 'delivered' | 'failed' | 'cancelled';
/** Who paused a destination: the operator, its circuit breaker (it probes and closes itself), or a 410. */
export type PausedBy = 'operator' | 'breaker' | 'gone';

/** One of the team's HTTP endpoints that applied events are forwarded to. */
export interface ForwardDestinationTable {
  id: Generated<string>;
  url: string;
  events: string[];
  company_id: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  payload_mode: ColumnType<PayloadMode, PayloadMode | undefined, PayloadMode>;
  /** Standard Webhooks secret, whsec_ + base64. Never logged, shown once. */
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  state: ColumnType<DestinationState, DestinationState | undefined, DestinationState>;
  paused_reason: string | null;
  rate_limit_per_second: number | null;
  breaker_threshold: ColumnType<number, number | undefined, number>;
  consecutive_failures: Generated<number>;
  allow_link_local: ColumnType<boolean, boolean | undefined, boolean>;
  /** Private and reserved addresses and plain http may be used (--allow-private; migration 0019). */
  allow_private: ColumnType<boolean, boolean | undefined, boolean>;
  description: string | null;
  /** Deliveries in flight at once, across every worker (migration 0021). Default 4. */
  max_in_flight: ColumnType<number, number | undefined, number>;
  /** A 4xx answer (but 408 and 429) fails the delivery at once instead of being retried. */
  fail_4xx: ColumnType<boolean, boolean | undefined, boolean>;
  /** Set while paused: who paused it. */
  paused_by: PausedBy | null;
  /** Consecutive openings of the breaker without a successful probe: the cool-down doubles with each. */
  breaker_opens: Generated<number>;
  /** Breaker open: when its probe delivery may be sent. */
  probe_at: Date | null;
  /** Breaker open: the one delivery sent as the probe (the head of a chain). */
  probe_delivery_id: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** The outbox: one row per applied event (and snapshot) per matching destination. */
export interface ForwardDeliveryTable {
  id: Generated<string>;
  destination_id: string;
  webhook_event_id: string;
  revision: Generated<number>;
  subject: string;
  event_type: string;
  company_id: string | null;
  message_id: Generated<string>;
  payload: ColumnType<unknown, string | null | undefined, string | null>;
  status: ColumnType<ForwardStatus, ForwardStatus | undefined, ForwardStatus>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  lease_until: Date | null;
  last_status_code: number | null;
  last_error: string | null;
  replay_count: Generated<number>;
  /** Times a sender claimed it in Postgres (sent or not): claims per send shows limits spinning. */
  claims: Generated<number>;
  created_at: Generated<Date>;
  delivered_at: Date | null;
  finished_at: Date | null;
}

/** One try at sending a delivery. */
export interface ForwardAttemptTable {
  id: Generated<string>;
  delivery_id: string;
  attempt: number;
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_excerpt: string | null;
  created_at: Generated<Date>;
}

export type ForwardDestination = Selectable<ForwardDestinationTable>;
export type ForwardDelivery = Selectable<ForwardDeliveryTable>;
export type ForwardAttempt = Selectable<ForwardAttemptTable>;
