/** Prometheus text-format metrics (exposition format 0.0.4) for the verifier service. */

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

function labels(values: Record<string, string>): string {
  const parts = Object.entries(values).map(([key, value]) => `${key}="${value.replace(/["\\\n]/g, '_')}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly verifications = new Map<string, number>();
  private readonly buckets = new Array<number>(DURATION_BUCKETS.length).fill(0);
  private durationSum = 0;
  private durationCount = 0;
  private readonly started = Date.now();

  countRequest(route: string, status: number): void {
    const key = labels({ route, status: String(status) });
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  countVerification(platform: string, verdict: string, seconds: number): void {
    const key = labels({ platform, verdict });
    this.verifications.set(key, (this.verifications.get(key) ?? 0) + 1);
    this.durationSum += seconds;
    this.durationCount++;
    DURATION_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) this.buckets[i]!++;
    });
  }

  render(): string {
    const lines: string[] = [
      '# HELP veritee_http_requests_total HTTP requests by route and status.',
      '# TYPE veritee_http_requests_total counter',
      ...[...this.requests].map(([key, value]) => `veritee_http_requests_total${key} ${value}`),
      '# HELP veritee_verifications_total Evidence verifications by platform and verdict.',
      '# TYPE veritee_verifications_total counter',
      ...[...this.verifications].map(([key, value]) => `veritee_verifications_total${key} ${value}`),
      '# HELP veritee_verify_duration_seconds Time spent verifying and appraising evidence.',
      '# TYPE veritee_verify_duration_seconds histogram',
      ...DURATION_BUCKETS.map(
        (bound, i) => `veritee_verify_duration_seconds_bucket{le="${bound}"} ${this.buckets[i]}`,
      ),
      `veritee_verify_duration_seconds_bucket{le="+Inf"} ${this.durationCount}`,
      `veritee_verify_duration_seconds_sum ${this.durationSum}`,
      `veritee_verify_duration_seconds_count ${this.durationCount}`,
      '# HELP veritee_uptime_seconds Seconds since the service started.',
      '# TYPE veritee_uptime_seconds gauge',
      `veritee_uptime_seconds ${(Date.now() - this.started) / 1000}`,
    ];
    return `${lines.join('\n')}\n`;
  }
}
