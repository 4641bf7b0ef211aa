/**
 * Node-only: `veritee watch <deployments.json>` — re-appraise deployments on a schedule and when new
 * collateral arrives; one JSON line per status change on stdout (and optionally a webhook POST).
 *
 * deployments.json:
 *   { "intervalSeconds": 3600, "webhook": "http://127.0.0.1:9000/hook",
 *     "deployments": [ { "name": "api", "evidence": "quote.bin", "policy": "policy.json" },
 *                      { "name": "kms", "endpoint": "http://…/attestation", "policy": { … } } ] }
 * Paths are relative to the deployments file; an endpoint answers GET with the evidence (raw, hex or base64).
 */
import { dirname, resolve } from 'node:path';
import { decodeEvidenceInput } from '../bytes.js';
import { HttpClient } from '../collateral/http.js';
import { CollateralResolver } from '../collateral/resolver.js';
import { type Deployment, type WatchEvent, Watcher } from '../collateral/watch.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { Policy } from '../policy/types.js';
import { loadPolicy } from '../verify.js';
import { type CollateralCliOptions, openCollateral, Progress } from './collateral-config.js';
import { EXIT, parseDuration, parseTime, readInput, readJsonFile } from './io.js';

export interface WatchCommandOptions extends CollateralCliOptions {
  readonly once?: boolean | undefined;
  readonly interval?: string | undefined;
  readonly webhook?: string | undefined;
  readonly at?: string | undefined;
  /** How often to fetch current collateral from the PCS whatever the store holds (default 1h). */
  readonly refresh?: string | undefined;
}

const DEFAULT_REFRESH = '1h';

interface DeploymentsFile {
  readonly intervalSeconds: number;
  readonly webhook: string | undefined;
  readonly deployments: readonly Deployment[];
}

function invalid(message: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.ARGUMENT_INVALID, message, { path });
}

export function loadDeployments(file: string, http: HttpClient): DeploymentsFile {
  const base = dirname(resolve(file));
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(readInput(file, 'deployments file')));
  } catch (error) {
    if (error instanceof VeriteeError) throw error;
    throw invalid('deployments file is not JSON', file);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw invalid('must be an object', file);
  const top = json as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (!['intervalSeconds', 'webhook', 'deployments'].includes(key))
      throw invalid(`unknown member "${key}"`, file);
  }
  const interval = top.intervalSeconds ?? 3600;
  if (typeof interval !== 'number' || !(interval >= 1))
    throw invalid('intervalSeconds must be ≥ 1', `${file}/intervalSeconds`);
  if (top.webhook !== undefined && typeof top.webhook !== 'string')
    throw invalid('webhook must be a URL', `${file}/webhook`);
  if (!Array.isArray(top.deployments) || top.deployments.length === 0) {
    throw invalid('deployments must be a non-empty array', `${file}/deployments`);
  }
  const names = new Set<string>();
  const deployments = top.deployments.map((entry, index): Deployment => {
    const path = `${file}/deployments[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw invalid('must be an object', path);
    const d = entry as Record<string, unknown>;
    for (const key of Object.keys(d)) {
      if (!['name', 'evidence', 'endpoint', 'policy'].includes(key))
        throw invalid(`unknown member "${key}"`, path);
    }
    if (typeof d.name !== 'string' || d.name === '') throw invalid('name must be a string', `${path}/name`);
    if (names.has(d.name)) throw invalid(`duplicate name "${d.name}"`, `${path}/name`);
    names.add(d.name);
    let policy: Policy | undefined;
    if (typeof d.policy === 'string') {
      policy = loadPolicy(readJsonFile(resolve(base, d.policy), 'policy'));
    } else if (d.policy !== undefined) {
      policy = loadPolicy(d.policy);
    }
    if ((d.evidence === undefined) === (d.endpoint === undefined)) {
      throw invalid('give exactly one of evidence (a file) or endpoint (a URL)', path);
    }
    if (typeof d.evidence === 'string') {
      const evidencePath = resolve(base, d.evidence);
      return {
        name: d.name,
        policy,
        evidence: async () => decodeEvidenceInput(readInput(evidencePath, 'evidence')),
      };
    }
    if (typeof d.endpoint !== 'string') throw invalid('endpoint must be a URL', `${path}/endpoint`);
    const endpoint = d.endpoint;
    return {
      name: d.name,
      policy,
      evidence: async () => decodeEvidenceInput((await http.get(endpoint)).body),
    };
  });
  return { intervalSeconds: interval, webhook: top.webhook, deployments };
}

async function postWebhook(url: string, event: WatchEvent): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: controller.signal,
    });
    await response.body?.cancel();
    if (!response.ok) process.stderr.write(`veritee watch: webhook answered ${response.status}\n`);
  } catch (error) {
    process.stderr.write(
      `veritee watch: webhook failed: ${error instanceof Error ? error.message : 'error'}\n`,
    );
  } finally {
    clearTimeout(timer);
  }
}

export async function runWatch(file: string, options: WatchCommandOptions): Promise<number> {
  const progress = new Progress(process.stderr.isTTY === true);
  const context = openCollateral(options, progress);
  const http = new HttpClient({ retries: 1, timeoutMs: 10_000 });
  try {
    const config = loadDeployments(file, http);
    const webhook = options.webhook ?? config.webhook;
    const early = new CollateralResolver({ ...context.resolver.options, update: 'early' });
    const fixed = options.at === undefined ? undefined : parseTime(options.at);
    const refreshMs = parseDuration(options.refresh ?? DEFAULT_REFRESH, '--refresh');
    let worst = EXIT.accepted as number;
    const watcher = new Watcher({
      deployments: config.deployments,
      source: context.resolver,
      early,
      now: () => fixed ?? new Date(),
      // Offline: the store alone, never refreshed.
      refresh: context.offline ? undefined : { everyMs: refreshMs, sources: [context.resolver, early] },
      emit: async (event) => {
        progress.done();
        process.stdout.write(`${JSON.stringify(event)}\n`);
        if (event.type === 'collateral') return; // a refresh warning: the verdicts stand
        if (event.verdict === 'contraindicated' || event.verdict === 'unavailable') worst = EXIT.rejected;
        if (webhook !== undefined) await postWebhook(webhook, event);
      },
    });
    if (options.once) {
      await watcher.cycle();
      return worst;
    }
    const intervalSeconds =
      options.interval === undefined ? config.intervalSeconds : Number(options.interval);
    if (!(intervalSeconds >= 1))
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--interval must be ≥ 1 second');
    let seen = (await context.store.list()).map((item) => item.contentHash).join();
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    await watcher.run({
      intervalMs: intervalSeconds * 1000,
      pollMs: Math.min(60_000, intervalSeconds * 1000),
      signal: stop.signal,
      changed: async () => {
        const now = (await context.store.list()).map((item) => item.contentHash).join();
        const changed = now !== seen;
        seen = now;
        return changed;
      },
    });
    return EXIT.accepted;
  } finally {
    progress.done();
    await context.close();
  }
}
