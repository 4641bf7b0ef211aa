/**
 * One HTTP client for every collateral provider (Intel PCS, PCCS, AMD KDS): a per-request timeout, retries
 * with exponential backoff (5xx, 429, network errors, timeouts, truncated bodies), `Retry-After` honoured
 * (capped), a per-host concurrency limit, and a response-size cap. Uses the global `fetch` (browsers and
 * Node 20) unless one is injected; `sleep` and `random` are injectable so tests run without real delays.
 *
 * Does not check what a response means: providers parse, verifiers verify. Errors are `VeriteeError`s with
 * code `COLLATERAL_UNAVAILABLE` (the service could not give an answer: callers may choose fail-open or
 * fail-closed) or `NOT_FOUND` (the service answered 404: the collateral does not exist).
 */
import { ErrorCode, VeriteeError } from '../errors.js';
import { readBodyLimited } from '../stream.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface HttpClientOptions {
  /** Injected `fetch`; default the global one. */
  readonly fetch?: FetchLike | undefined;
  /** Per-attempt timeout, headers and body included. Default 10 000 ms. */
  readonly timeoutMs?: number | undefined;
  /** Retries after the first attempt. Default 3. */
  readonly retries?: number | undefined;
  /** First backoff delay; doubled each retry, with ±50 % jitter. Default 250 ms. */
  readonly backoffMs?: number | undefined;
  /** Longest wait honoured from a `Retry-After` header or a backoff. Default 30 000 ms. */
  readonly maxDelayMs?: number | undefined;
  /** Requests in flight per host. Default 4. */
  readonly perHostConcurrency?: number | undefined;
  /** Largest accepted body. Default 4 MiB. */
  readonly maxBytes?: number | undefined;
  readonly sleep?: ((ms: number) => Promise<void>) | undefined;
  readonly random?: (() => number) | undefined;
  /** Called before each retry (progress displays, logs). */
  readonly onRetry?: ((event: RetryEvent) => void) | undefined;
}

export interface RetryEvent {
  readonly url: string;
  readonly attempt: number;
  readonly delayMs: number;
  readonly reason: string;
}

export interface HttpResponse {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

const DEFAULTS = {
  timeoutMs: 10_000,
  retries: 3,
  backoffMs: 250,
  maxDelayMs: 30_000,
  perHostConcurrency: 4,
  maxBytes: 4 << 20,
};

/** A counting semaphore per host. */
class HostLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** Seconds or an HTTP date → milliseconds from `now`; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

class Retryable extends Error {
  constructor(
    readonly reason: string,
    readonly retryAfterMs?: number,
  ) {
    super(reason);
  }
}

function readBody(response: Response, maxBytes: number, url: string): Promise<Uint8Array> {
  return readBodyLimited(
    response,
    maxBytes,
    (details) =>
      new VeriteeError(ErrorCode.COLLATERAL_INVALID, 'collateral response too large', { path: url, details }),
  );
}

export class HttpClient {
  private readonly options: Required<Omit<HttpClientOptions, 'fetch' | 'onRetry' | 'sleep' | 'random'>>;
  private readonly fetchFn: FetchLike;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;
  private readonly limiters = new Map<string, HostLimiter>();

  constructor(options: HttpClientOptions = {}) {
    this.options = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      retries: options.retries ?? DEFAULTS.retries,
      backoffMs: options.backoffMs ?? DEFAULTS.backoffMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULTS.maxDelayMs,
      perHostConcurrency: options.perHostConcurrency ?? DEFAULTS.perHostConcurrency,
      maxBytes: options.maxBytes ?? DEFAULTS.maxBytes,
    };
    const globalFetch = (globalThis as { fetch?: FetchLike }).fetch;
    const chosen = options.fetch ?? globalFetch;
    if (chosen === undefined) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'no fetch available: pass one in the options');
    }
    this.fetchFn = chosen;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.onRetry = options.onRetry;
  }

  private limiter(url: string): HostLimiter {
    let host: string;
    try {
      host = new URL(url).host;
    } catch {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'invalid collateral URL', { details: url });
    }
    let limiter = this.limiters.get(host);
    if (limiter === undefined) {
      limiter = new HostLimiter(this.options.perHostConcurrency);
      this.limiters.set(host, limiter);
    }
    return limiter;
  }

  private async attempt(url: string): Promise<HttpResponse> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      let response: Response;
      try {
        response = await this.fetchFn(url, { signal: controller.signal, redirect: 'follow' });
      } catch (error) {
        throw new Retryable(
          controller.signal.aborted
            ? `no response within ${this.options.timeoutMs} ms`
            : `network error: ${error instanceof Error ? error.message.slice(0, 120) : 'unknown'}`,
        );
      }
      if (response.status === 429 || response.status >= 500) {
        await response.body?.cancel().catch(() => undefined);
        throw new Retryable(
          `HTTP ${response.status}`,
          parseRetryAfter(response.headers.get('retry-after'), Date.now()),
        );
      }
      let body: Uint8Array;
      try {
        body = await readBody(response, this.options.maxBytes, url);
      } catch (error) {
        if (error instanceof VeriteeError || error instanceof Retryable) throw error;
        throw new Retryable(
          controller.signal.aborted
            ? `body not complete within ${this.options.timeoutMs} ms`
            : `body read failed: ${error instanceof Error ? error.message.slice(0, 120) : 'unknown'}`,
        );
      }
      return { url, status: response.status, headers: response.headers, body };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * GET with retries. Returns 2xx responses; throws NOT_FOUND for 404, COLLATERAL_UNAVAILABLE for other
   * 4xx and when retries are exhausted.
   */
  async get(url: string): Promise<HttpResponse> {
    const limiter = this.limiter(url);
    let lastReason = '';
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      try {
        const response = await limiter.run(() => this.attempt(url));
        if (response.status === 404) {
          throw new VeriteeError(ErrorCode.NOT_FOUND, 'collateral not found', { details: url });
        }
        if (response.status < 200 || response.status > 299) {
          throw new VeriteeError(
            ErrorCode.COLLATERAL_UNAVAILABLE,
            `collateral service answered ${response.status}`,
            {
              details: url,
            },
          );
        }
        return response;
      } catch (error) {
        if (!(error instanceof Retryable)) throw error;
        lastReason = error.reason;
        if (attempt === this.options.retries) break;
        const backoff = this.options.backoffMs * 2 ** attempt * (0.5 + this.random());
        const delayMs = Math.min(this.options.maxDelayMs, error.retryAfterMs ?? backoff);
        this.onRetry?.({ url, attempt: attempt + 1, delayMs, reason: error.reason });
        await this.sleep(delayMs);
      }
    }
    throw new VeriteeError(ErrorCode.COLLATERAL_UNAVAILABLE, 'collateral service unavailable', {
      details: `${url}: ${lastReason} after ${this.options.retries + 1} attempts`,
    });
  }
}
