/** A per-client token bucket: `rate` requests per second with bursts up to `burst`. */

export interface RateLimitOptions {
  readonly rate: number;
  readonly burst: number;
  /** Buckets kept at most (oldest dropped first), bounding memory under address churn. */
  readonly maxClients?: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `client`; returns 0 when allowed, else the seconds to wait. */
  take(client: string): number {
    const now = this.now();
    let bucket = this.buckets.get(client);
    if (bucket === undefined) {
      if (this.buckets.size >= (this.options.maxClients ?? 10_000)) {
        this.buckets.delete(this.buckets.keys().next().value as string);
      }
      bucket = { tokens: this.options.burst, updated: now };
    } else {
      this.buckets.delete(client);
    }
    bucket.tokens = Math.min(
      this.options.burst,
      bucket.tokens + ((now - bucket.updated) / 1000) * this.options.rate,
    );
    bucket.updated = now;
    this.buckets.set(client, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - bucket.tokens) / this.options.rate);
  }
}
