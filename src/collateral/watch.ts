/**
 * Re-appraisal over time: a set of deployments (evidence + policy, or a way to pull fresh evidence) is
 * verified again on a schedule and whenever new collateral arrives, and one JSON line is emitted per status
 * change — never twice for the same status. Each status carries the verdict's expiry (`validUntil`: the
 * earliest nextUpdate / certificate expiry it used) and, when an `early` resolver is given, the verdict
 * under Intel's `early` TCB evaluation data (a coming TCB recovery).
 *
 * Collateral refresh (`refresh`): a stored item is served until it expires, so a newer TCB Info (a TCB
 * recovery) would otherwise be seen only then. Every `everyMs` (by the injected clock, and at the first
 * cycle) the watcher asks each refreshing resolver for the current collateral of every distinct needs of
 * its deployments — once per needs, however many deployments share it — before appraising, so what is new
 * is used in the same cycle. What a refresh could not store (a service error, an item that fails to verify,
 * a rollback) changes no verdict: the stored collateral stays in use, and the error is emitted once as a
 * `collateral` warning line, again only when it changes.
 *
 * The clock is injected (`now`), so tests drive a simulated clock with `cycle()`; `run()` is the loop.
 */
import { ErrorCode, VeriteeError } from '../errors.js';
import type { TrustAnchor } from '../pki/chain.js';
import type { Policy } from '../policy/types.js';
import type { AttestationResult } from '../result.js';
import { type CollateralSource, verify } from '../verify.js';
import type { RefreshOutcome } from './resolver.js';

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

/** A collateral refresh the watcher could not complete for one item: nothing of it was stored. */
export interface WatchNotice {
  readonly type: 'collateral';
  readonly level: 'warning';
  readonly time: string;
  /** The collateral needs refreshed (as `CollateralResolver.needsKey` names them). */
  readonly needs: string;
  readonly code: string;
  /** The item, `kind/key`, when known. */
  readonly path: string | null;
  readonly message: string;
}

/** What the watcher refreshes collateral through (a `CollateralResolver`). */
export interface Refreshable {
  needsKey(bytes: Uint8Array): string;
  refresh(bytes: Uint8Array, at: Date): Promise<RefreshOutcome>;
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
  /**
   * Refresh collateral every `everyMs` through each of `sources` (e.g. the standard and the early resolver).
   * Omitted (offline): never refreshed.
   */
  readonly refresh?: { readonly everyMs: number; readonly sources: readonly Refreshable[] } | undefined;
  /** Called once per status change, and once per new collateral refresh warning. */
  readonly emit: (event: WatchEvent | WatchNotice) => void | Promise<void>;
}

type Pulled = { readonly bytes: Uint8Array } | { readonly error: unknown };

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
  private lastRefresh: number | undefined;
  /** Per source and needs: the errors of its last refresh (code, item, message), as emitted. */
  private readonly refreshErrors = new Map<string, Set<string>>();

  constructor(private readonly options: WatcherOptions) {
    this.now = options.now ?? (() => new Date());
    const everyMs = options.refresh?.everyMs;
    if (everyMs !== undefined && !(Number.isFinite(everyMs) && everyMs >= 1)) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'the refresh interval must be ≥ 1 ms', {
        path: 'refresh/everyMs',
      });
    }
  }

  /** Whether a collateral refresh is due at `at` (the first cycle, then every `everyMs`; a clock gone back). */
  refreshDue(at: Date = this.now()): boolean {
    const refresh = this.options.refresh;
    if (refresh === undefined) return false;
    const t = at.getTime();
    return this.lastRefresh === undefined || t < this.lastRefresh || t - this.lastRefresh >= refresh.everyMs;
  }

  /** One refresh per source and distinct needs; emits what could not be stored, once per change. */
  private async refreshCollateral(pulled: readonly Pulled[], at: Date): Promise<void> {
    this.lastRefresh = at.getTime();
    for (const [index, source] of (this.options.refresh?.sources ?? []).entries()) {
      const done = new Set<string>();
      for (const entry of pulled) {
        if (!('bytes' in entry)) continue;
        let needs: string;
        try {
          needs = source.needsKey(entry.bytes);
        } catch {
          continue; // unreadable evidence: its appraisal reports why
        }
        if (done.has(needs)) continue;
        done.add(needs);
        const outcome = await source.refresh(entry.bytes, at);
        await this.notice(`${index} ${needs}`, outcome, at);
      }
    }
  }

  /** Emits the refresh errors of one source and needs that its previous refresh did not have. */
  private async notice(slot: string, outcome: RefreshOutcome, at: Date): Promise<void> {
    const before = this.refreshErrors.get(slot);
    const now = new Set<string>();
    for (const error of outcome.errors) {
      const print = JSON.stringify([error.code, error.path ?? null, error.message]);
      now.add(print);
      if (before?.has(print) === true) continue;
      await this.options.emit({
        type: 'collateral',
        level: 'warning',
        time: at.toISOString(),
        needs: outcome.needs,
        code: error.code,
        path: error.path ?? null,
        message: error.message,
      });
    }
    this.refreshErrors.set(slot, now);
  }

  /** The latest status of every deployment (after at least one cycle). */
  statuses(): WatchStatus[] {
    return [...this.last.values()].map((entry) => entry.status);
  }

  private async appraise(deployment: Deployment, pulled: Pulled, at: Date): Promise<WatchStatus> {
    if ('error' in pulled) {
      const error = pulled.error;
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
    const evidence = pulled.bytes;
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
    const pulled: Pulled[] = [];
    for (const deployment of this.options.deployments) {
      try {
        pulled.push({ bytes: await deployment.evidence() });
      } catch (error) {
        pulled.push({ error });
      }
    }
    if (this.refreshDue(at)) await this.refreshCollateral(pulled, at);
    const events: WatchEvent[] = [];
    for (const [index, deployment] of this.options.deployments.entries()) {
      const status = await this.appraise(deployment, pulled[index]!, at);
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
   * Cycles every `intervalMs`, and sooner when `changed()` reports new collateral or a collateral refresh is
   * due (checked every `pollMs`), until `signal` aborts.
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
        if (this.refreshDue() || (await options.changed?.()) === true) break;
      }
    }
  }
}
