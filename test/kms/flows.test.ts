/** The KMS flows end to end on five in-process nodes (SQLite), with simulator evidence (platform sim). */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import { verifyAuditChain } from '../../src/kms/audit.js';
import { fromB64u } from '../../src/kms/codec.js';
import { recoverBinding } from '../../src/kms/messages.js';
import { openSqlite } from '../../src/kms/node/sqlite.js';
import { publishPolicy, retireEpoch } from '../../src/kms/owner.js';
import { type Cluster, register, releasePolicy, startCluster } from './helpers.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster(5);
  await register(cluster, 3);
});
afterAll(() => cluster.close());

async function expectCode(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VeriteeError);
  expect((error as VeriteeError).code).toBe(code);
  return error as VeriteeError;
}

async function auditOf(index: number) {
  const node = cluster.nodes[index]!;
  const response = await cluster.fetch(`${node.url}/v1/audit`);
  return ((await response.json()) as { entries: { type: string; code: string | null }[] }).entries;
}

describe('create and recover', () => {
  let created: Awaited<ReturnType<ReturnType<Cluster['client']>['create']>>;

  it('creates epoch 1 with a share at every node', async () => {
    created = await cluster.client().create();
    expect(created.epoch).toBe(1);
    expect(created.record.nodes).toHaveLength(5);
    expect(created.record.threshold).toBe(3);
  });

  it('recovers the same secret and purpose keys', async () => {
    const { key, used, failures } = await cluster.client().recover();
    expect(used.length).toBe(3);
    expect(failures).toEqual([]);
    expect(toHex(key.diskKey())).toBe(toHex(created.diskKey()));
    expect(toHex(key.signingKey().publicKey)).toBe(toHex(created.signingKey().publicKey));
    expect(toHex(key.instanceKey('i-1'))).not.toBe(toHex(key.instanceKey('i-2')));
    expect(toHex(key.diskKey())).not.toBe(toHex(key.signingKey().seed));
  });

  it('recovers with two nodes down, refuses with three down', async () => {
    try {
      cluster.nodes[0]!.down = true;
      cluster.nodes[3]!.down = true;
      const { key, failures } = await cluster.client().recover();
      expect(toHex(key.diskKey())).toBe(toHex(created.diskKey()));
      expect(failures.map((f) => f.code)).toEqual([
        ErrorCode.KMS_NODE_UNAVAILABLE,
        ErrorCode.KMS_NODE_UNAVAILABLE,
      ]);
      cluster.nodes[4]!.down = true;
      await expectCode(cluster.client().recover(), ErrorCode.KMS_NOT_ENOUGH_SHARES);
    } finally {
      for (const node of cluster.nodes) node.down = false;
    }
  });

  it('refuses an unapproved measurement at every node, with an audit entry', async () => {
    const error = await expectCode(
      cluster.client({ image: 'evil image' }).recover(),
      ErrorCode.KMS_NOT_ENOUGH_SHARES,
    );
    expect(error.message).toContain('KMS_POLICY_REJECTED');
    const entries = await auditOf(1);
    expect(entries.at(-1)).toMatchObject({ type: 'share.refused', code: ErrorCode.KMS_POLICY_REJECTED });
  });

  it('detects a corrupted stored share and recovers from the others', async () => {
    const row = (await cluster.nodes[2]!.store.epoch('demo-app', 1))!;
    const share = JSON.parse(row.share!) as { ct: string };
    share.ct = `${share.ct.slice(0, 10)}${share.ct[10] === 'A' ? 'B' : 'A'}${share.ct.slice(11)}`;
    // Written straight into the node's database file, as someone with disk access would.
    const db = openSqlite(join(cluster.nodes[2]!.dir, 'kms.sqlite'));
    await db.run('UPDATE kms_epoch SET share = ? WHERE app_id = ? AND epoch = 1', [
      JSON.stringify(share),
      'demo-app',
    ]);
    await db.close();
    const { key, failures } = await cluster.client().recover();
    expect(toHex(key.diskKey())).toBe(toHex(created.diskKey()));
    expect(failures.some((f) => f.code === ErrorCode.KMS_SHARE_CORRUPT)).toBe(true);
    expect((await auditOf(2)).at(-1)).toMatchObject({
      type: 'share.refused',
      code: ErrorCode.KMS_SHARE_CORRUPT,
    });
    await db.close();
  });
});

describe('replay, nonce reuse, binding, policy', () => {
  async function nonceFrom(index: number) {
    const node = cluster.nodes[index]!;
    const response = await cluster.fetch(`${node.url}/v1/apps/demo-app/nonce`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    return ((await response.json()) as { nonce: string }).nonce;
  }

  async function recoverAt(index: number, body: Record<string, unknown>) {
    const response = await cluster.fetch(`${cluster.nodes[index]!.url}/v1/apps/demo-app/recover`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as { error?: { code: string } } };
  }

  async function freshRequest(index: number, image?: string) {
    const node = cluster.nodes[index]!;
    const nonces = [{ node: node.identity.ref.id, nonce: await nonceFrom(index) }];
    const ephemeralPublicKey = node.identity.ref.hpkePublicKey; // any 32-byte key will do here
    const evidence = await cluster.attester(image)(recoverBinding('demo-app', 1, ephemeralPublicKey, nonces));
    return { epoch: 1, ephemeralPublicKey, nonces, evidence: Buffer.from(evidence).toString('base64') };
  }

  it('releases once, then refuses the replayed request (nonce reused) and audits it', async () => {
    const body = await freshRequest(1);
    expect((await recoverAt(1, body)).status).toBe(200);
    const replay = await recoverAt(1, body);
    expect(replay.status).toBe(403);
    expect(replay.json.error?.code).toBe(ErrorCode.KMS_NONCE_REUSED);
    expect((await auditOf(1)).at(-1)).toMatchObject({
      type: 'share.refused',
      code: ErrorCode.KMS_NONCE_REUSED,
    });
  });

  it('refuses a nonce it never issued, and an expired one', async () => {
    const body = await freshRequest(1);
    const other = {
      ...body,
      nonces: [{ node: body.nonces[0]!.node, nonce: Buffer.alloc(32, 9).toString('base64url') }],
    };
    expect((await recoverAt(1, other)).json.error?.code).toBe(ErrorCode.KMS_NONCE_UNKNOWN);
    const late = await freshRequest(1);
    cluster.now.value = new Date(Date.now() + 10 * 60_000);
    try {
      expect((await recoverAt(1, late)).json.error?.code).toBe(ErrorCode.KMS_NONCE_EXPIRED);
    } finally {
      cluster.now.value = new Date();
    }
  });

  it('refuses evidence that binds another key (old evidence with a fresh nonce)', async () => {
    const body = await freshRequest(1);
    const swapped = { ...body, ephemeralPublicKey: cluster.nodes[0]!.identity.ref.hpkePublicKey };
    const answer = await recoverAt(1, swapped);
    expect(answer.json.error?.code).toBe(ErrorCode.KMS_BINDING_MISMATCH);
    expect((await auditOf(1)).at(-1)).toMatchObject({
      type: 'share.refused',
      code: ErrorCode.KMS_BINDING_MISMATCH,
    });
  });

  it('refuses malformed bodies with typed errors', async () => {
    for (const body of [
      {},
      { epoch: 'x' },
      { epoch: 1, ephemeralPublicKey: 'AA', nonces: [], evidence: '' },
      [],
    ]) {
      const answer = await recoverAt(1, body as Record<string, unknown>);
      expect(answer.status).toBe(400);
      expect(answer.json.error?.code).toBe(ErrorCode.ARGUMENT_INVALID);
    }
  });

  it('refuses a policy change not signed by the owner, or out of order', async () => {
    const intruder = await import('../../src/kms/crypto.js').then((m) => m.ed25519Generate());
    await expectCode(
      publishPolicy({
        appId: 'demo-app',
        ownerSeed: intruder.seed,
        policy: releasePolicy(cluster),
        threshold: 2,
        nodes: cluster.urls,
        fetch: cluster.fetch,
      }),
      ErrorCode.KMS_OWNER_SIGNATURE,
    );
  });

  it('refuses a release policy that pins no measurement', async () => {
    await expectCode(
      publishPolicy({
        appId: 'other-app',
        ownerSeed: cluster.owner.seed,
        policy: {},
        threshold: 2,
        nodes: cluster.urls,
        fetch: cluster.fetch,
      }),
      ErrorCode.POLICY_INVALID,
    );
  });
});

describe('rotate, reshare, retire', () => {
  it('rotates to a new secret, reshares 2-of-3 to a new node set, keeps old epochs readable, retires them', async () => {
    const client = cluster.client();
    const before = (await client.recover()).key;
    const rotated = await client.rotate();
    expect(rotated.epoch).toBe(2);
    expect(toHex(rotated.diskKey())).not.toBe(toHex(before.diskKey()));
    // Epoch 1 is still readable until it is retired.
    expect(toHex((await client.recover({ epoch: 1 })).key.diskKey())).toBe(toHex(before.diskKey()));

    await publishPolicy({
      appId: 'demo-app',
      ownerSeed: cluster.owner.seed,
      policy: releasePolicy(cluster),
      threshold: 2,
      nodes: cluster.urls.slice(2),
      alsoNotify: cluster.urls,
      fetch: cluster.fetch,
    });
    const reshared = await client.reshare(rotated);
    expect(reshared.epoch).toBe(3);
    expect(reshared.record.threshold).toBe(2);
    expect(reshared.record.nodes).toHaveLength(3);
    expect(toHex(reshared.diskKey())).toBe(toHex(rotated.diskKey()));
    cluster.nodes[2]!.down = true;
    const again = await client.recover();
    expect(again.key.epoch).toBe(3);
    expect(toHex(again.key.diskKey())).toBe(toHex(rotated.diskKey()));
    cluster.nodes[2]!.down = false;

    await retireEpoch({
      appId: 'demo-app',
      epoch: 1,
      ownerSeed: cluster.owner.seed,
      nodes: cluster.urls,
      fetch: cluster.fetch,
    });
    await expectCode(client.recover({ epoch: 1 }), ErrorCode.KMS_EPOCH_UNKNOWN);
    const row = await cluster.nodes[0]!.store.epoch('demo-app', 1);
    expect(row?.retired).toBe(true);
    expect(row?.share).toBeNull();
  });
});

describe('audit log', () => {
  it('is a valid signed hash chain at every node, and a tampered entry is detected', async () => {
    for (const [index, node] of cluster.nodes.entries()) {
      const entries = await auditOf(index);
      const check = verifyAuditChain(entries, fromB64u(node.identity.ref.signingPublicKey, 'key'));
      expect(check.entries).toBe(entries.length);
      const text = JSON.stringify(entries);
      expect(text).not.toMatch(/"(share|secret|ct|enc)":/);
    }
    const entries = (await auditOf(1)) as unknown as Record<string, unknown>[];
    const key = fromB64u(cluster.nodes[1]!.identity.ref.signingPublicKey, 'key');
    const tampered = entries.map((entry, i) => (i === 2 ? { ...entry, detail: { injected: 1 } } : entry));
    expect(() => verifyAuditChain(tampered, key)).toThrow(/KMS|audit log broken/);
    expect(() => verifyAuditChain(entries.slice(1), key)).toThrow(/sequence/);
    expect(() => verifyAuditChain([...entries, 'garbage'], key)).toThrow(/audit log broken/);
  });

  it('refuses UPDATE and DELETE on the audit table', async () => {
    const db = openSqlite(join(cluster.nodes[0]!.dir, 'kms.sqlite'));
    await expect(db.run('DELETE FROM kms_audit')).rejects.toThrow(/append-only/);
    await expect(db.run("UPDATE kms_audit SET entry = 'x'")).rejects.toThrow(/append-only/);
    await db.close();
  });
});
