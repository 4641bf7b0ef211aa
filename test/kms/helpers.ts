/** In-process KMS nodes (Hono apps over SQLite in a temp dir) behind a fake fetch, and a dev attester. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsClient } from '../../src/kms/client.js';
import { ed25519Generate } from '../../src/kms/crypto.js';
import { createDevAttester, type DevAttester } from '../../src/kms/node/dev-attester.js';
import { loadOrCreateNodeIdentity, openStore } from '../../src/kms/node/runtime.js';
import { publishPolicy } from '../../src/kms/owner.js';
import { createKmsNode, type NodeIdentity } from '../../src/kms/server.js';
import type { KmsStore } from '../../src/kms/store.js';
import { customAnchor } from '../../src/pki/roots.js';

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
  attester: DevAttester;
  owner: { seed: Uint8Array; publicKey: Uint8Array };
  now: { value: Date };
  client(options?: { image?: string; appId?: string }): KmsClient;
  close(): Promise<void>;
}

export async function startCluster(
  count: number,
  options: { store?: (index: number, dir: string) => Promise<KmsStore> } = {},
): Promise<Cluster> {
  const attester = createDevAttester();
  const anchors = [await customAnchor('dev root', attester.rootPem)];
  const now = { value: new Date() };
  const nodes: TestNode[] = [];
  for (let index = 0; index < count; index++) {
    const dir = mkdtempSync(join(tmpdir(), `veritee-kms-${index}-`));
    const { identity } = await loadOrCreateNodeIdentity(dir);
    const store = options.store ? await options.store(index, dir) : await openStore(undefined, dir);
    const node = createKmsNode({ identity, store, trust: { anchors }, now: () => now.value });
    nodes.push({ url: `http://node${index}.test`, dir, identity, store, app: node.app, down: false });
  }
  const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const node = nodes.find((n) => request.url.startsWith(`${n.url}/`));
    if (node === undefined || node.down) throw new TypeError('fetch failed');
    return node.app.fetch(request);
  }) as typeof fetch;
  const urls = nodes.map((n) => n.url);
  return {
    nodes,
    urls,
    fetch: fetcher,
    attester,
    owner: ed25519Generate(),
    now,
    client: (o = {}) =>
      new KmsClient({
        appId: o.appId ?? 'demo-app',
        nodes: urls,
        fetch: fetcher,
        attest: async (reportData) => attester.attest(reportData, o.image),
      }),
    close: async () => {
      for (const node of nodes) await node.store.close();
    },
  };
}

export function releasePolicy(attester: DevAttester, extra: Record<string, unknown> = {}) {
  return { platforms: ['nitro'], measurements: { pcr0: attester.pcr0() }, ...extra };
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
    policy: releasePolicy(cluster.attester),
    threshold,
    nodes,
    fetch: cluster.fetch,
  });
}
