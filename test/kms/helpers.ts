/**
 * In-process KMS nodes (Hono apps over SQLite in a temp dir) behind a fake fetch, and simulated
 * enclaves from the project's simulator with a root made for the cluster (platform `sim`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utf8Encode } from '../../src/bytes.js';
import { type Attester, KmsClient } from '../../src/kms/client.js';
import { ed25519Generate } from '../../src/kms/crypto.js';
import { loadOrCreateNodeIdentity, openStore } from '../../src/kms/node/runtime.js';
import { type SimulatedApp, simulatedApp } from '../../src/kms/node/sim-enclave.js';
import { publishPolicy } from '../../src/kms/owner.js';
import { createKmsNode, type NodeIdentity } from '../../src/kms/server.js';
import type { KmsStore } from '../../src/kms/store.js';
import { simulatorAnchor } from '../../src/runtime/sim/store.js';

export const TEST_APP = utf8Encode('veritee kms test app v1');

export interface TestNode {
  url: string;
  dir: string;
  identity: NodeIdentity;
  store: KmsStore;
  app: ReturnType<typeof createKmsNode>['app'];
  down: boolean;
}

export interface Cluster {
  nodes: TestNode[];
  urls: string[];
  fetch: typeof fetch;
  /** The simulated app: its enclaves, its root and its release policy. */
  sim: SimulatedApp;
  /** What the simulator printed (its warning). */
  warnings: string[];
  owner: { seed: Uint8Array; publicKey: Uint8Array };
  now: { value: Date };
  /** Evidence from an enclave running the test app, or the app named `image`. */
  attester(image?: string): Attester;
  client(options?: { image?: string; appId?: string }): KmsClient;
  close(): Promise<void>;
}

export async function startCluster(
  count: number,
  options: {
    store?: (index: number, dir: string) => Promise<KmsStore>;
    /** Which nodes trust the simulator root (default: all). */
    trustsSimulator?: (index: number) => boolean;
  } = {},
): Promise<Cluster> {
  const warnings: string[] = [];
  const sim = simulatedApp({
    simDir: mkdtempSync(join(tmpdir(), 'veritee-kms-sim-')),
    appBytes: TEST_APP,
    warn: (message) => warnings.push(message),
  });
  const simulatorRoots = [await simulatorAnchor(sim.simDir)];
  const now = { value: new Date() };
  const nodes: TestNode[] = [];
  for (let index = 0; index < count; index++) {
    const dir = mkdtempSync(join(tmpdir(), `veritee-kms-${index}-`));
    const { identity } = await loadOrCreateNodeIdentity(dir);
    const store = options.store ? await options.store(index, dir) : await openStore(undefined, dir);
    const trust = (options.trustsSimulator?.(index) ?? true) ? { simulatorRoots } : {};
    const node = createKmsNode({ identity, store, trust, now: () => now.value });
    nodes.push({ url: `http://node${index}.test`, dir, identity, store, app: node.app, down: false });
  }
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const node = nodes.find((n) => request.url.startsWith(`${n.url}/`));
    if (node === undefined || node.down) throw new TypeError('fetch failed');
    return node.app.fetch(request);
  }) as typeof fetch;
  const urls = nodes.map((n) => n.url);
  const attester = (image?: string) => sim.attester(image === undefined ? undefined : utf8Encode(image));
  return {
    nodes,
    urls,
    fetch: fetcher,
    sim,
    warnings,
    owner: ed25519Generate(),
    now,
    attester,
    client: (o = {}) =>
      new KmsClient({
        appId: o.appId ?? 'demo-app',
        nodes: urls,
        fetch: fetcher,
        attest: attester(o.image),
      }),
    close: async () => {
      for (const node of nodes) await node.store.close();
    },
  };
}

export function releasePolicy(cluster: Cluster, extra: Record<string, unknown> = {}) {
  return { ...cluster.sim.releasePolicy, ...extra };
}

export async function register(
  cluster: Cluster,
  threshold: number,
  appId = 'demo-app',
  nodes = cluster.urls,
) {
  return publishPolicy({
    appId,
    ownerSeed: cluster.owner.seed,
    policy: releasePolicy(cluster),
    threshold,
    nodes,
    fetch: cluster.fetch,
  });
}
