/**
 * `veritee kms demo`: a local stack — three node processes (2-of-3, SQLite) and a simulated enclave
 * running the example app that creates its key, seals some state, loses everything, and is rebuilt on
 * "another machine" that recovers the key and reads its state back. Prints each step.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex, utf8Decode, utf8Encode } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { KmsClient } from '../client.js';
import { ed25519Generate } from '../crypto.js';
import { nodeRefOf, publishPolicy } from '../owner.js';
import { SealedState } from '../sealed.js';
import { FileBlobStore } from './blobs.js';
import { createDevAttester } from './dev-attester.js';
import { NodeProcess } from './processes.js';

export interface DemoOptions {
  readonly dir?: string;
  readonly print: (line: string) => void;
}

export async function runDemo(options: DemoOptions): Promise<boolean> {
  const { print } = options;
  const work = options.dir ?? mkdtempSync(join(tmpdir(), 'veritee-kms-demo-'));
  const attester = createDevAttester();
  const rootPath = join(work, 'dev-root.pem');
  writeFileSync(rootPath, attester.rootPem);
  const nodes = [0, 1, 2].map(
    (index) => new NodeProcess({ dir: join(work, `node${index}`), trustRoots: [rootPath] }),
  );
  try {
    print('1. starting three KMS nodes on 127.0.0.1 (SQLite, each with its own key)');
    await Promise.all(nodes.map((node) => node.start()));
    for (const node of nodes) print(`   node ${node.id} at ${node.url}`);
    print(
      '   evidence: Nitro-format documents from a throw-away dev root the nodes trust explicitly (NOT hardware)',
    );

    const owner = ed25519Generate();
    const urls = nodes.map((node) => node.url);
    const policy = { platforms: ['nitro'], measurements: { pcr0: attester.pcr0() } };
    const signed = await publishPolicy({
      appId: 'example-app',
      ownerSeed: owner.seed,
      policy,
      threshold: 2,
      nodes: urls,
    });
    print(
      `2. owner registered "example-app": 2-of-3, release only to pcr0 ${attester.pcr0().slice(0, 24)}… (policy v${signed.change.version})`,
    );

    const enclave = new KmsClient({
      appId: 'example-app',
      nodes: urls,
      attest: async (data) => attester.attest(data),
    });
    const created = await enclave.create();
    const signing = toHex(created.signingKey().publicKey);
    print(
      `3. enclave A generated the app secret, split it 2-of-3, sealed each share to one node (epoch ${created.epoch})`,
    );
    print(`   key-check value ${created.record.kcv}; app signing key ${signing.slice(0, 32)}…`);

    const blobs = new FileBlobStore(join(work, 'blobs'));
    const refs = await Promise.all(urls.map(async (url) => ({ url, ref: await nodeRefOf(url) })));
    const stateA = new SealedState({ key: created, nodes: refs, blobs });
    const written = await stateA.write('ledger', utf8Encode('{"balance": 42}'));
    print(
      `4. enclave A sealed its state: version ${written.version}, blob ${written.digest.slice(0, 16)}… countersigned by the nodes`,
    );

    created.destroy();
    print('5. enclave A is gone: its memory (and key) is lost');

    const enclaveB = new KmsClient({
      appId: 'example-app',
      nodes: urls,
      attest: async (data) => attester.attest(data),
    });
    const { key, used } = await enclaveB.recover();
    const same = toHex(key.signingKey().publicKey) === signing;
    print(
      `6. enclave B (same image, another machine) recovered the key from ${used.length} nodes: ${same ? 'same signing key' : 'DIFFERENT KEY'}`,
    );

    const stateB = new SealedState({ key, nodes: refs, blobs });
    const read = await stateB.read('ledger');
    print(
      `7. enclave B read the sealed state back: ${read === undefined ? '(none)' : utf8Decode(read.plaintext)} (version ${read?.version.version})`,
    );

    const rogue = new KmsClient({
      appId: 'example-app',
      nodes: urls,
      attest: async (data) => attester.attest(data, 'a modified image'),
    });
    const refused = await rogue.recover().then(
      () => 'RELEASED (wrong!)',
      (error: unknown) =>
        error instanceof VeriteeError
          ? `refused, ${error.code}${error.details?.includes(ErrorCode.KMS_POLICY_REJECTED) ? ' (every node: KMS_POLICY_REJECTED, audited)' : ''}`
          : 'refused',
    );
    print(`8. an enclave running a modified image asked for the key: ${refused}`);
    const ok = same && read !== undefined && refused !== 'RELEASED (wrong!)';
    print(ok ? 'demo finished: every step behaved' : 'demo FAILED');
    return ok;
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    if (options.dir === undefined) rmSync(work, { recursive: true, force: true });
  }
}
