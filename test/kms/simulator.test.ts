/**
 * Simulator evidence (platform sim) is released to only by nodes that trust the simulator root
 * explicitly, and only under a release policy that lists `sim`; the simulator says so loudly.
 */
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import { KmsClient } from '../../src/kms/client.js';
import { publishPolicy } from '../../src/kms/owner.js';
import { SIMULATOR_WARNING } from '../../src/runtime/providers/sim.js';
import { register, startCluster } from './helpers.js';

describe('KMS with simulator evidence', () => {
  it('the simulated app prints the simulator warning once, naming its root', async () => {
    const cluster = await startCluster(1);
    try {
      expect(cluster.warnings).toEqual([
        `${SIMULATOR_WARNING} (format nitro, roots in ${cluster.sim.simDir})`,
      ]);
      expect(cluster.sim.releasePolicy.platforms).toEqual(['sim']);
      expect(Object.keys(cluster.sim.releasePolicy.measurements)).toEqual(['pcr0', 'pcr1', 'pcr2']);
    } finally {
      await cluster.close();
    }
  });

  it('a node that does not trust the simulator root refuses; the trusting ones release, as platform sim', async () => {
    // Node 2 is started without the simulator root.
    const cluster = await startCluster(3, { trustsSimulator: (index) => index !== 2 });
    try {
      await register(cluster, 2, 'sim-app');
      // Create needs every node: the one that does not trust the simulator refuses.
      const refused = await cluster
        .client({ appId: 'sim-app' })
        .create()
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(refused).toBeInstanceOf(VeriteeError);
      expect((refused as VeriteeError).code).toBe(ErrorCode.KMS_POLICY_REJECTED);
      expect((refused as VeriteeError).details).toContain(`${cluster.urls[2]}: KMS_POLICY_REJECTED`);

      // The two trusting nodes alone: create and recover work, and the audit says platform sim.
      const trusting = cluster.urls.slice(0, 2);
      await register(cluster, 2, 'sim-app2', trusting);
      const client = new KmsClient({
        appId: 'sim-app2',
        nodes: trusting,
        fetch: cluster.fetch,
        attest: cluster.attester(),
      });
      const created = await client.create();
      const { key } = await client.recover();
      expect(toHex(key.diskKey())).toBe(toHex(created.diskKey()));
      const audit = (await (await cluster.fetch(`${trusting[0]}/v1/audit`)).json()) as {
        entries: { type: string; detail: { platform?: string; pcr0?: string } }[];
      };
      expect(audit.entries.at(-1)).toMatchObject({
        type: 'share.release',
        detail: { platform: 'sim', pcr0: cluster.sim.pcr0.slice(0, 24) },
      });
    } finally {
      await cluster.close();
    }
  });

  it('trusting nodes refuse simulator evidence under a policy that does not list sim', async () => {
    const cluster = await startCluster(2);
    try {
      await publishPolicy({
        appId: 'nitro-only',
        ownerSeed: cluster.owner.seed,
        policy: { platforms: ['nitro'], measurements: cluster.sim.releasePolicy.measurements },
        threshold: 2,
        nodes: cluster.urls,
        fetch: cluster.fetch,
      });
      await expect(cluster.client({ appId: 'nitro-only' }).create()).rejects.toMatchObject({
        code: ErrorCode.KMS_POLICY_REJECTED,
      });
    } finally {
      await cluster.close();
    }
  });

  it('a policy change that drops the measurement takes effect at the next request (no stale policy)', async () => {
    const cluster = await startCluster(3);
    try {
      await register(cluster, 2, 'moving-app');
      const client = cluster.client({ appId: 'moving-app' });
      await client.create();
      await client.recover();
      await publishPolicy({
        appId: 'moving-app',
        ownerSeed: cluster.owner.seed,
        policy: { platforms: ['sim'], measurements: { pcr0: 'ab'.repeat(48) } },
        threshold: 2,
        nodes: cluster.urls,
        fetch: cluster.fetch,
      });
      const refused = await client.recover().then(
        () => undefined,
        (error: unknown) => error as VeriteeError,
      );
      expect(refused?.code).toBe(ErrorCode.KMS_NOT_ENOUGH_SHARES);
      expect(refused?.details).toContain(ErrorCode.KMS_POLICY_REJECTED);
    } finally {
      await cluster.close();
    }
  });
});
