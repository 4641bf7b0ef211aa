/** Simulator evidence (platform sim) is accepted only by nodes that trust the simulator root explicitly. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { ErrorCode } from '../../src/errors.js';
import { KmsClient } from '../../src/kms/client.js';
import { ed25519Generate } from '../../src/kms/crypto.js';
import { loadOrCreateNodeIdentity, openStore } from '../../src/kms/node/runtime.js';
import { publishPolicy } from '../../src/kms/owner.js';
import { createKmsNode } from '../../src/kms/server.js';
import { defaultSimulatedMeasurements } from '../../src/runtime/providers/sim.js';
import { SimulatedNitro } from '../../src/runtime/sim/nitro.js';
import { loadSimulatorRoot, simulatorAnchor } from '../../src/runtime/sim/store.js';

describe('KMS with simulator evidence', () => {
  it('nodes that trust the sim root release to sim evidence under a "sim" policy; a node that does not refuses', async () => {
    const simDir = mkdtempSync(join(tmpdir(), 'veritee-kms-sim-'));
    const root = loadSimulatorRoot(simDir, true);
    const measurements = defaultSimulatedMeasurements();
    const enclave = new SimulatedNitro(root, measurements);
    const simulatorRoots = [await simulatorAnchor(simDir)];
    const apps: { url: string; app: ReturnType<typeof createKmsNode>['app'] }[] = [];
    for (let index = 0; index < 3; index++) {
      const dir = mkdtempSync(join(tmpdir(), `veritee-kms-simnode-${index}-`));
      const { identity } = await loadOrCreateNodeIdentity(dir);
      const store = await openStore(undefined, dir);
      // Node 2 does not trust the simulator.
      const trust = index < 2 ? { simulatorRoots } : {};
      apps.push({ url: `http://sim${index}.test`, app: createKmsNode({ identity, store, trust }).app });
    }
    const fetcher = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      return apps.find((a) => request.url.startsWith(`${a.url}/`))!.app.fetch(request);
    }) as typeof fetch;
    const urls = apps.map((a) => a.url);
    const owner = ed25519Generate();
    const pcr0 = toHex(measurements.pcrs.get(0)!);
    await publishPolicy({
      appId: 'sim-app',
      ownerSeed: owner.seed,
      policy: { platforms: ['sim'], measurements: { pcr0 } },
      threshold: 2,
      nodes: urls,
      fetch: fetcher,
    });
    const attest = async (reportData: Uint8Array) => enclave.document(reportData);
    const client = new KmsClient({ appId: 'sim-app', nodes: urls, fetch: fetcher, attest });
    // Create needs every node: the one that does not trust the simulator refuses.
    await expect(client.create()).rejects.toMatchObject({ code: ErrorCode.KMS_POLICY_REJECTED });

    // The two trusting nodes alone: create and recover work, and the result is platform sim.
    const trusting = urls.slice(0, 2);
    await publishPolicy({
      appId: 'sim-app2',
      ownerSeed: owner.seed,
      policy: { platforms: ['sim'], measurements: { pcr0 } },
      threshold: 2,
      nodes: trusting,
      fetch: fetcher,
    });
    const client2 = new KmsClient({ appId: 'sim-app2', nodes: trusting, fetch: fetcher, attest });
    const created = await client2.create();
    const { key } = await client2.recover();
    expect(toHex(key.diskKey())).toBe(toHex(created.diskKey()));
    const audit = (await (await fetcher(`${trusting[0]}/v1/audit`)).json()) as {
      entries: { type: string; detail: { platform?: string } }[];
    };
    expect(audit.entries.at(-1)).toMatchObject({ type: 'share.release', detail: { platform: 'sim' } });
  });
});
