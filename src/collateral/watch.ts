/**
 * Re-appraisal over time: a set of deployments (evidence + policy, or a way to pull fresh evidence) is
 * verified again on a schedule and whenever new collateral arrives, and one JSON line is emitted per status
 * change — never twice for the same status. Each status carries the verdict's expiry (`validUntil`: the
 * earliest nextUpdate / certificate expiry it used) and, when an `early` resolver is given, the verdict
 * under Intel's `early` TCB evaluation data (a coming TCB recovery).
 *
 * The clock is injected (`now`), so tests drive a simulated clock with `cycle()`; `run()` is the loop.
 */
import { ErrorCode } from '../errors.js';
import type { TrustAnchor } from '../pki/chain.js';
import type { Policy } from '../policy/types.js';
import type { AttestationResult } from '../result.js';
import { type CollateralSource, verify } from '../verify.js';

export interface Deployment {
  readonly name: string;
  /** The evidence to re-appraise (a fixed file, or pulled from an endpoint each cycle). */
  evidence(): Promise<Uint8Array>;
  readonly policy?: Policy | undefined;
}

export interface WatchStatus {
  readonly deployment: string;
  /** `affirming`, `warning`, `contraindicated`, or `unavailable` when no evidence could be had. */
  readonly verdict: AttestationResult['verdict'] | 'unavailable';
  readonly tcbStatus: string | null;
  /** The TCB's security advisories (Intel `INTEL-SA-…`), empty when none or not applicable. */
  readonly advisoryIds: readonly string[];
  readonly validUntil: string | null;
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  /** Under Intel's `early` TCB evaluation data (null: not evaluated / not Intel). */
  readonly early: {
    readonly verdict: string;
    readonly tcbStatus: string | null;
    readonly wouldFail: boolean;
  } | null;
}

export interface WatchEvent extends WatchStatus {
  readonly type: 'status';
  readonly time: string;
  readonly previous: WatchStatus['verdict'] | null;
}

export interface WatcherOptions {
  readonly deployments: readonly Deployment[];
  /** Collateral for the standard verdict. */
  readonly source: CollateralSource;
  /** Collateral under Intel's `early` TCB evaluation data (optional). */
  readonly early?: CollateralSource | undefined;
  readonly now?: (() => Date) | undefined;
  /** As `verify`'s: replace the embedded vendor roots (tests, private PKIs). Default: the pinned roots. */
  readonly anchors?: readonly TrustAnchor[] | undefined;
  /** As `verify`'s: simulator roots trusted explicitly (their evidence is platform `sim`). */
  readonly simulatorRoots?: readonly TrustAnchor[] | undefined;
  /** Called once per status change. */
  readonly emit: (event: WatchEvent) => void | Promise<void>;
}

function fingerprint(status: WatchStatus): string {
  return JSON.stringify([
    status.verdict,
    status.tcbStatus,
    status.advisoryIds,
    status.errors,
    status.early?.verdict ?? null,
  ]);
}

const codes = (issues: readonly { code: string }[]): string[] => [
  ...new Set(issues.map((issue) => issue.code)),
];

/** SGX/TDX evidence (also the simulator's TDX quotes): Intel's `early` TCB evaluation data applies. */
function isIntel(result: AttestationResult): boolean {
  const imitated = result.platform === 'sim' ? result.claims.simulatedPlatform : result.platform;
  return imitated === 'sgx' || imitated === 'tdx';
}

export class Watcher {
  private readonly last = new Map<string, { status: WatchStatus; print: string }>();
  private readonly now: () => Date;

  constructor(private readonly options: WatcherOptions) {
    this.now = options.now ?? (() => new Date());
  }

  /** The latest status of every deployment (after at least one cycle). */
  statuses(): WatchStatus[] {
    return [...this.last.values()].map((entry) => entry.status);
  }

  private async appraise(deployment: Deployment, at: Date): Promise<WatchStatus> {
    let evidence: Uint8Array;
    try {
      evidence = await deployment.evidence();
    } catch (error) {
      return {
        deployment: deployment.name,
        verdict: 'unavailable',
        tcbStatus: null,
        advisoryIds: [],
        validUntil: null,
        errors: [error instanceof Error && 'code' in error ? String(error.code) : ErrorCode.EVIDENCE_INVALID],
        warnings: [],
        early: null,
      };
    }
    const trust = { anchors: this.options.anchors, simulatorRoots: this.options.simulatorRoots };
    const result = await verify(evidence, {
      at,
      policy: deployment.policy,
      collateralSource: this.options.source,
      ...trust,
    });
    let early: WatchStatus['early'] = null;
    if (this.options.early !== undefined && isIntel(result)) {
      const under = await verify(evidence, {
        at,
        policy: deployment.policy,
        collateralSource: this.options.early,
        ...trust,
      });
      // Early data that cannot be had (not fetched, offline) says nothing about a coming recovery.
      if (under.errors[0]?.code === ErrorCode.COLLATERAL_UNAVAILABLE)
        return this.status(deployment, result, null);
      early = {
        verdict: under.verdict,
        tcbStatus: under.tcb?.status ?? null,
        wouldFail: under.verdict === 'contraindicated' && result.verdict !== 'contraindicated',
      };
    }
    return this.status(deployment, result, early);
  }

  private status(
    deployment: Deployment,
    result: AttestationResult,
    early: WatchStatus['early'],
  ): WatchStatus {
    return {
      deployment: deployment.name,
      verdict: result.verdict,
      tcbStatus: result.tcb?.status ?? null,
      advisoryIds: result.tcb?.advisoryIds ?? [],
      validUntil: result.validUntil,
      errors: codes(result.errors),
      warnings: codes(result.warnings),
      early,
    };
  }

  /** Re-appraises every deployment once; emits the changes; returns them. */
  async cycle(): Promise<WatchEvent[]> {
    const at = this.now();
    const events: WatchEvent[] = [];
    for (const deployment of this.options.deployments) {
      const status = await this.appraise(deployment, at);
      const print = fingerprint(status);
      const before = this.last.get(deployment.name);
      if (before?.print === print) {
        this.last.set(deployment.name, { status, print });
        continue;
      }
      this.last.set(deployment.name, { status, print });
      const event: WatchEvent = {
        type: 'status',
        time: at.toISOString(),
        previous: before?.status.verdict ?? null,
        ...status,
      };
      events.push(event);
      await this.options.emit(event);
    }
    return events;
  }

  /**
   * Cycles every `intervalMs`, and sooner when `changed()` reports new collateral (checked every
   * `pollMs`), until `signal` aborts.
   */
  async run(options: {
    intervalMs: number;
    pollMs?: number;
    signal?: AbortSignal;
    changed?: () => Promise<boolean>;
    sleep?: (ms: number) => Promise<void>;
  }): Promise<void> {
    const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
    const pollMs = Math.max(1, Math.min(options.pollMs ?? 60_000, options.intervalMs));
    const aborted = (): boolean => options.signal?.aborted === true;
    while (!aborted()) {
      await this.cycle();
      let waited = 0;
      while (waited < options.intervalMs && !aborted()) {
        await sleep(pollMs);
        waited += pollMs;
        if ((await options.changed?.()) === true) break;
      }
    }
  }
}
