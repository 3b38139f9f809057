import type { AuditPhaseReport } from './audit-phase';
import type { FairnessReport } from './fair-destinations';
import type { ForwardReport } from './flaky-destination';
import type { FunctionsPhaseReport } from './functions-phase';
import type { HostileOptions, HostileReport } from './hostile';
import type { ChaosReport } from './verify';

export interface ChaosOptions {
  /** Repository root (for scripts/ and the built apps). */
  root: string;
  /** Signed deliveries to send. Default 20,000. */
  events: number;
  workers: number;
  /** Spread the load over this long. */
  durationSeconds: number;
  /** Postgres is stopped this long, once (0: never). */
  pgOutageSeconds: number;
  /** SIGKILL a random worker this often, and restart it (0: never). */
  killEverySeconds: number;
  /** Restart Redis once, losing every job. Default true. */
  restartRedis?: boolean;
  /** Deploy-style: SIGTERM each worker in turn, wait for its exit, start it again, while the load runs. */
  rollingRestart?: boolean;
  /** Freeze one worker (SIGSTOP) this long in the middle of its work, then resume it (0: never). Default 0. */
  freezeSeconds?: number;
  /** Hold a lock on webhook_events this long, once, after the Postgres outage (0: never). Default 0. */
  lockSeconds?: number;
  /** Scrape the ingress's /metrics from 8 loops at once for the whole load. Default false. */
  metricsFlood?: boolean;
  /** The forwarding destination answers 503 to everything this long, once (0: never). Default 30. */
  destinationDownSeconds?: number;
  /** Share of the forwarding destination's answers that are 500. Default 1/3. */
  destinationFailureRate?: number;
  /**
   * The hostile phase beside the signed load (hostile.ts): unsigned 5 MB bodies, slow connections,
   * wrong dashboard passwords. Default off; `make chaos` turns it on.
   */
  hostile?: HostileOptions;
  /** Forward applied events to a (flaky) destination and check them. Default true. */
  forwarding?: boolean;
  /**
   * Custom functions with a turn budget beside the load (functions-phase.ts): no handler may run twice
   * for one invocation. Default off: it adds load a small machine feels (`make chaos ARGS=--functions`).
   */
  functions?: boolean;
  /**
   * End with reconciliation against a fake Retell that lists every call (5% of them never sent as
   * webhooks) and `make audit`, which must find every call complete. Default true.
   */
  audit?: boolean;
  seed: number;
  /** Keep the services and data afterwards, for a look. */
  keep?: boolean;
  log?: (line: string) => void;
}

export interface ChaosResult {
  report: ChaosReport;
  passed: boolean;
  kills: number;
  /** Workers restarted one by one with SIGTERM (rolling restart), and their exit codes. */
  rollingExitCodes: (number | null)[];
  /** Exit codes of the graceful SIGTERM stop at the end (0 = clean). */
  shutdownCodes: (number | null)[];
  unexpectedExits: string[];
  /** Where the processes' logs were kept. */
  logDir: string;
  /** Workers frozen with SIGSTOP and resumed. */
  freezes: number;
  /** The ingress's peak resident memory while webhook_events was locked, in bytes (0: no lock). */
  ingressPeakRssDuringLock: number;
  /** /metrics scrapes answered during the flood, and the ones that failed. */
  metricsScrapes: number;
  metricsScrapeErrors: number;
  /** The flaky forwarding destination: forwarded = applied, once each, in order (absent: not forwarding). */
  forward?: ForwardReport;
  /** The hostile phase (absent: not run). */
  hostile?: HostileReport;
  /** Healthy, slow and rate-limited destinations beside the flaky one (absent: not forwarding). */
  fairness?: FairnessReport;
  /** Reconciliation and make audit at the end (absent: not run). */
  audit?: AuditPhaseReport;
  /** Functions under the faults: no double runs, every invocation answered (absent: not run). */
  functions?: FunctionsPhaseReport;
}
