/**
 * `veritee kms demo`: a local stack — three node processes (2-of-3, SQLite) and a simulated enclave
 * running the example app (example-app.ts), which creates its key, seals some state, loses everything,
 * and is rebuilt on "another machine" that recovers the key and reads its state back; then an enclave
 * running a modified app is refused. Prints each step.
 *
 * Evidence comes from the installation's simulator root (`simulatorDir()`: `$VERITEE_SIM_DIR`, else
 * the user's config directory; created on first use), the same root `veritee serve --provider sim`
 * signs with, so the nodes are started exactly as a developer's would be: `--trust-sim <that root>`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatBytes, toHex, utf8Decode, utf8Encode } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { simulatorDir } from '../../runtime/sim/store.js';
import { ed25519Generate } from '../crypto.js';
import { publishPolicy } from '../owner.js';
import { openBlobStore } from './blobs.js';
import { EXAMPLE_APP_ID, exampleAppBytes, firstStart, laterStart } from './example-app.js';
import { NodeProcess } from './processes.js';
import { simulatedApp } from './sim-enclave.js';

export interface DemoOptions {
  /** Working directory for the nodes and blobs (default: a temporary one, removed afterwards). */
  readonly dir?: string;
  /** The simulator's root directory (default: the installation's, see `simulatorDir`). */
  readonly simDir?: string;
  /** Where the sealed blobs go: a directory or `s3://bucket/prefix` (default: `<dir>/blobs`). */
  readonly blobs?: string;
  readonly print: (line: string) => void;
}

const INITIAL_STATE = '{"balance": 42}';

export async function runDemo(options: DemoOptions): Promise<boolean> {
  const { print } = options;
  const work = options.dir ?? mkdtempSync(join(tmpdir(), 'veritee-kms-demo-'));
  const appBytes = exampleAppBytes();
  const sim = simulatedApp({ simDir: options.simDir ?? simulatorDir(), appBytes, warn: print });
  const nodes = [0, 1, 2].map(
    (index) => new NodeProcess({ dir: join(work, `node${index}`), trustSim: [sim.rootCertificatePath] }),
  );
  try {
    print('1. starting three KMS nodes on 127.0.0.1 (SQLite, each with its own key)');
    await Promise.all(nodes.map((node) => node.start()));
    for (const node of nodes) print(`   node ${node.id} at ${node.url}`);
    print(
      `   they trust the simulator root ${sim.rootCertificatePath} (--trust-sim): platform sim, NOT hardware`,
    );

    const owner = ed25519Generate();
    const urls = nodes.map((node) => node.url);
    const signed = await publishPolicy({
      appId: EXAMPLE_APP_ID,
      ownerSeed: owner.seed,
      policy: sim.releasePolicy,
      threshold: 2,
      nodes: urls,
    });
    print(
      `2. owner registered "${EXAMPLE_APP_ID}": 2-of-3, release only to platform sim with pcr0 ${sim.pcr0.slice(0, 24)}… = SHA-384 of the example app (policy v${signed.change.version})`,
    );

    const blobs = openBlobStore(options.blobs ?? join(work, 'blobs'));
    const enclaveA = { nodes: urls, attest: sim.attester(), blobs };
    const { key: created, written } = await firstStart(enclaveA, INITIAL_STATE);
    const signing = toHex(created.signingKey().publicKey);
    print(
      `3. simulated enclave A (the example app) generated the app secret, split it 2-of-3, sealed each share to one node (epoch ${created.epoch})`,
    );
    print(`   key-check value ${created.record.kcv}; app signing key ${signing.slice(0, 32)}…`);
    print(
      `4. enclave A sealed its state: version ${written.version}, blob ${written.digest.slice(0, 16)}… countersigned by the nodes`,
    );

    created.destroy();
    print('5. enclave A is gone: its memory (and key) is lost');

    const enclaveB = { nodes: urls, attest: sim.attester(), blobs };
    const { key, used, state } = await laterStart(enclaveB);
    const same = toHex(key.signingKey().publicKey) === signing;
    print(
      `6. enclave B (same app, another machine) recovered the key from ${used.length} nodes: ${same ? 'same signing key' : 'DIFFERENT KEY'}`,
    );
    const stateText = state === undefined ? undefined : utf8Decode(state.plaintext);
    print(
      `7. enclave B read the sealed state back: ${stateText ?? '(none)'} (version ${state?.version.version})`,
    );

    const modified = concatBytes(appBytes, utf8Encode('\n// a modified build\n'));
    const rogue = { nodes: urls, attest: sim.attester(modified), blobs };
    const refused = await laterStart(rogue).then(
      () => 'RELEASED (wrong!)',
      (error: unknown) =>
        error instanceof VeriteeError
          ? `refused, ${error.code}${error.details?.includes(ErrorCode.KMS_POLICY_REJECTED) ? ' (every node: KMS_POLICY_REJECTED, audited)' : ''}`
          : 'refused',
    );
    print(`8. an enclave running a modified app asked for the key: ${refused}`);
    const ok = same && stateText === INITIAL_STATE && refused.startsWith('refused');
    print(ok ? 'demo finished: every step behaved' : 'demo FAILED');
    return ok;
  } finally {
    await Promise.all(nodes.map((node) => node.stop()));
    if (options.dir === undefined) rmSync(work, { recursive: true, force: true });
  }
}
