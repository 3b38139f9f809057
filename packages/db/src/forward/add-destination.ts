import type { Db } from '../database';
import type { ForwardDestination, PayloadMode } from '../forward.table';

/*
 * A destination is one of the team's HTTP endpoints that applied events are forwarded to. Adding one
 * is a plain insert: the URL's checks (reserved addresses, https) and the secret are the domain's,
 * done before this is called, and deliveries are written for it from the next applied event on.
 */

export interface NewDestination {
  url: string;
  events: readonly string[];
  companyId: string | null;
  payloadMode: PayloadMode;
  secret: string;
  rateLimitPerSecond: number | null;
  breakerThreshold: number;
  allowLinkLocal: boolean;
  allowPrivate: boolean;
  description: string | null;
  /** Deliveries in flight at once across every worker. Default 4. */
  maxInFlight?: number;
  /** Fail a 4xx answer (but 408, 429) at once instead of retrying it. Default false. */
  fail4xx?: boolean;
}

export async function addDestination(db: Db, d: NewDestination): Promise<ForwardDestination> {
  return db
    .insertInto('forward_destinations')
    .values({
      url: d.url,
      events: [...d.events],
      company_id: d.companyId,
      payload_mode: d.payloadMode,
      secret: d.secret,
      rate_limit_per_second: d.rateLimitPerSecond,
      breaker_threshold: d.breakerThreshold,
      allow_link_local: d.allowLinkLocal,
      allow_private: d.allowPrivate,
      description: d.description,
      max_in_flight: d.maxInFlight,
      fail_4xx: d.fail4xx,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}
