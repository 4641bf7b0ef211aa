/**
 * Node-only: the collateral configuration contract of every command —
 *   --pcs-url <url>   VERITEE_PCS_URL   Intel PCS v4 or PCCS base URL (default Intel's PCS)
 *   --kds-url <url>   VERITEE_KDS_URL   AMD KDS base URL (default AMD's)
 *   --store <spec>    VERITEE_STORE     SQLite file path or postgres:// URL (default ~/.cache/veritee/collateral.sqlite)
 *   --offline                           never touch the network: the store alone
 *   --update <early|standard>           Intel TCB evaluation data (default standard)
 * Options win over the environment. Without any of them `verify` keeps its old behaviour (collateral
 * only from --collateral / --vcek…).
 */
import { HttpClient, type RetryEvent } from '../collateral/http.js';
import { KdsProvider, PcsProvider, type TcbUpdate } from '../collateral/providers.js';
import { CollateralResolver, type ResolverEvent } from '../collateral/resolver.js';
import { openStore } from '../collateral/store-open.js';
import type { CollateralStore } from '../collateral/types.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { type CollateralCliOptions, envOf } from './collateral-cli.js';

export type { CollateralCliOptions } from './collateral-cli.js';

export interface CollateralContext {
  readonly store: CollateralStore;
  readonly resolver: CollateralResolver;
  readonly offline: boolean;
  /** Extra listeners for resolver events (counts, logs). */
  readonly listeners: Set<(event: ResolverEvent) => void>;
  close(): Promise<void>;
}

/** A progress line on stderr for long fetches, only in a terminal; silent when piped. */
export class Progress {
  private shown = false;
  constructor(private readonly enabled: boolean) {}
  event(event: ResolverEvent | RetryEvent): void {
    if (!this.enabled) return;
    const text =
      'kind' in event
        ? `${event.type} ${event.kind} ${event.key}`
        : `retry ${event.attempt} in ${Math.round(event.delayMs)} ms: ${event.reason}`;
    process.stderr.write(`\r\x1b[2K${text.slice(0, (process.stderr.columns ?? 100) - 1)}`);
    this.shown = true;
  }
  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[2K');
    this.shown = false;
  }
}

export function openCollateral(
  options: CollateralCliOptions,
  progress?: Progress,
  env = process.env,
): CollateralContext {
  const update = options.update ?? 'standard';
  if (update !== 'standard' && update !== 'early') {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--update must be "standard" or "early"');
  }
  const offline = options.offline === true;
  const store = openStore(options.store ?? envOf(env, 'VERITEE_STORE'));
  const http = new HttpClient({ onRetry: (event) => progress?.event(event) });
  const pcsUrl = options.pcsUrl ?? envOf(env, 'VERITEE_PCS_URL');
  const kdsUrl = options.kdsUrl ?? envOf(env, 'VERITEE_KDS_URL');
  const listeners = new Set<(event: ResolverEvent) => void>();
  const resolver = new CollateralResolver({
    store,
    offline,
    update: update as TcbUpdate,
    pcs: offline ? undefined : new PcsProvider(http, { url: pcsUrl, update: update as TcbUpdate }),
    kds: offline ? undefined : new KdsProvider(http, { url: kdsUrl }),
    onEvent: (event) => {
      progress?.event(event);
      for (const listener of listeners) listener(event);
    },
  });
  return { store, resolver, offline, listeners, close: () => store.close() };
}
