/** @callsync/db/forward: Forwarding to the team's destinations: destinations, the outbox of deliveries and its chains, claims, attempts. */
export * from '../forward';
