import { type Db } from '@callsync/db';
import { loadRoutingSnapshot, type RoutingSnapshot } from '@callsync/db/tenants';
import type { CallParties } from '../handlers/tenant-cache';

/*
 * Routing held in memory: companies, agents, numbers (static variables, time windows) and blocklists,
 * read whole at start and again on every callsync_tenants notification (listenForTenantChanges calls
 * `refresh` on each, and again after a reconnect, since changes made meanwhile were not heard). So an
 * inbound answer routes by schedule and rejects a blocked caller without asking Postgres, and keeps
 * doing so while Postgres is slow or away: only the caller's memory needs it.
 */

type Company = RoutingSnapshot['companies'][number];
type Agent = RoutingSnapshot['agents'][number];
type NumberRow = RoutingSnapshot['numbers'][number];
type Schedule = RoutingSnapshot['schedules'][number];

export class TenantDirectory {
  private companies = new Map<string, Company>();
  private agents = new Map<string, Agent>();
  private numbers = new Map<string, NumberRow>();
  private schedules = new Map<string, Schedule[]>();
  private blocked = new Set<string>();
  private loadedAt: Date | null = null;
  private inFlight: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly db: Db,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  /** True once a snapshot has been read; before that, callers go to Postgres as before. */
  get loaded(): boolean {
    return this.loadedAt !== null;
  }

  /** When the snapshot in use was read (null: never). */
  get readAt(): Date | null {
    return this.loadedAt;
  }

  /**
   * Read the snapshot again. Notifications that arrive while a read runs make one more read after
   * it (a change committed meanwhile may be missing from it). A failed read keeps the last snapshot.
   */
  refresh(): Promise<void> {
    if (this.inFlight) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      do {
        this.again = false;
        try {
          this.apply(await loadRoutingSnapshot(this.db));
        } catch (err) {
          this.onError(err as Error);
          return;
        }
      } while (this.again);
    })().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Replace the state with `s` (also what tests use to load a snapshot directly). */
  apply(s: RoutingSnapshot): void {
    this.companies = new Map(s.companies.map((c) => [c.id, c]));
    this.agents = new Map(s.agents.map((a) => [a.agent_id, a]));
    this.numbers = new Map(s.numbers.map((n) => [n.phone_number, n]));
    const schedules = new Map<string, Schedule[]>();
    for (const w of s.schedules) schedules.set(w.phone_number, [...(schedules.get(w.phone_number) ?? []), w]);
    this.schedules = schedules;
    this.blocked = new Set(s.blocked.map((b) => `${b.company_id}:${b.phone_number}`));
    this.loadedAt = new Date();
  }

  /** The company of a call, by the sessions' rule (tenant-cache.ts): agent mapped for itself, number, inherited. */
  companyOf(call: CallParties): string | null {
    const agent = call.agent_id ? this.agents.get(call.agent_id) : undefined;
    if (agent?.company_id && agent.company_source === 'agent') return agent.company_id;
    const number =
      call.direction === 'inbound' ? call.to_number : call.direction === 'outbound' ? call.from_number : null;
    const byNumber = number ? (this.numbers.get(number)?.company_id ?? null) : null;
    return byNumber ?? agent?.company_id ?? null;
  }

  company(id: string | null): Company | null {
    return id === null ? null : (this.companies.get(id) ?? null);
  }

  /** How many companies exist (a deployment with none keeps caller memory across all calls). */
  get companyCount(): number {
    return this.companies.size;
  }

  agent(agentId: string | null | undefined): Agent | null {
    return agentId ? (this.agents.get(agentId) ?? null) : null;
  }

  number(phoneNumber: string): NumberRow | null {
    return this.numbers.get(phoneNumber) ?? null;
  }

  schedulesOf(phoneNumber: string): Schedule[] {
    return this.schedules.get(phoneNumber) ?? [];
  }

  isBlocked(companyId: string | null, caller: string | null): boolean {
    return companyId !== null && caller !== null && this.blocked.has(`${companyId}:${caller}`);
  }
}
