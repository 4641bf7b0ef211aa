/** Sealed state: AEAD blobs with key id and epoch in the header, and node-countersigned versions. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Decode, utf8Encode } from '../../src/bytes.js';
import { ErrorCode } from '../../src/errors.js';
import type { AppKey } from '../../src/kms/client.js';
import { FileBlobStore } from '../../src/kms/node/blobs.js';
import { openBlob, parseSealedHeader, SealedState, sealBlob } from '../../src/kms/sealed.js';
import { type Cluster, register, startCluster } from './helpers.js';

let cluster: Cluster;
let key: AppKey;
let state: SealedState;
let blobs: FileBlobStore;

beforeAll(async () => {
  cluster = await startCluster(3);
  await register(cluster, 2, 'sealed-app');
  key = await cluster.client({ appId: 'sealed-app' }).create();
  blobs = new FileBlobStore(mkdtempSync(join(tmpdir(), 'veritee-blobs-')));
  state = new SealedState({
    key,
    nodes: cluster.nodes.map((node) => ({ url: node.url, ref: node.identity.ref })),
    blobs,
    fetch: cluster.fetch,
  });
});
afterAll(() => cluster.close());

describe('sealed blobs', () => {
  it('round-trips, with kid, epoch and version in the authenticated header', async () => {
    const blob = await sealBlob(key, 'db', 7, utf8Encode('hello'));
    const header = parseSealedHeader(blob);
    expect(header).toMatchObject({ kid: 'sealed-app/sealed-state/db', epoch: 1, version: 7 });
    expect(utf8Decode((await openBlob(key, 'db', blob)).plaintext)).toBe('hello');
    for (const index of [0, 9, 12, blob.length - 1]) {
      const bad = blob.slice();
      bad[index]! ^= 1;
      await expect(openBlob(key, 'db', bad)).rejects.toMatchObject({ code: ErrorCode.KMS_SEALED_INVALID });
    }
    await expect(openBlob(key, 'other', blob)).rejects.toMatchObject({ code: ErrorCode.KMS_SEALED_INVALID });
  });
});

describe('rollback protection', () => {
  it('writes versions 1 and 2, reads the newest, refuses the old blob offered as current', async () => {
    const v1 = await state.write('db', utf8Encode('state one'));
    const v2 = await state.write('db', utf8Encode('state two'));
    expect([v1.version, v2.version]).toEqual([1, 2]);
    const read = await state.read('db');
    expect(utf8Decode(read!.plaintext)).toBe('state two');
    const old = (await blobs.get(v1.digest))!;
    await expect(state.openOffered('db', old)).rejects.toMatchObject({ code: ErrorCode.KMS_SEALED_ROLLBACK });
    expect(utf8Decode(await state.openOffered('db', (await blobs.get(v2.digest))!))).toBe('state two');
  });

  it('still sees the newest version with one node down (read quorum n−t+1 = 2)', async () => {
    cluster.nodes[0]!.down = true;
    try {
      expect((await state.latest('db'))?.version).toBe(2);
    } finally {
      cluster.nodes[0]!.down = false;
    }
  });

  it('refuses a version bump that skips, repeats, or is not signed by the app key', async () => {
    const node = cluster.nodes[1]!;
    const post = (body: unknown) =>
      cluster.fetch(`${node.url}/v1/apps/sealed-app/sealed/db`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const version = { appId: 'sealed-app', name: 'db', epoch: 1, version: 2, digest: '0'.repeat(64) };
    const { signFor } = await import('../../src/kms/crypto.js');
    const { sealedVersionBytes } = await import('../../src/kms/messages.js');
    const { b64u } = await import('../../src/kms/codec.js');
    const signed = (v: typeof version) =>
      b64u(signFor(key.keyCheckSeed(), 'sealed version', sealedVersionBytes(v)));
    expect(
      ((await (await post({ version, signature: signed(version) })).json()) as { error: { code: string } })
        .error.code,
    ).toBe(ErrorCode.KMS_SEALED_VERSION);
    const v4 = { ...version, version: 4 };
    expect(
      ((await (await post({ version: v4, signature: signed(v4) })).json()) as { error: { code: string } })
        .error.code,
    ).toBe(ErrorCode.KMS_SEALED_VERSION);
    const v3 = { ...version, version: 3 };
    expect(
      ((await (await post({ version: v3, signature: signed(v4) })).json()) as { error: { code: string } })
        .error.code,
    ).toBe(ErrorCode.KMS_OWNER_SIGNATURE);
  });
});
