/**
 * The example enclave app of `veritee kms demo`: what an app does with the KMS on its first start
 * (create the app key, seal its state) and on any later start, on any machine running the same image
 * (recover the key, read the state back).
 *
 * The demo runs it in a simulated enclave whose PCR0 is the SHA-384 of this module's file, as
 * `veritee serve` measures an app, so the release policy admits exactly this code; the drill and the
 * benchmark pin the same measurement.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { utf8Encode } from '../../bytes.js';
import { type Attester, KmsClient } from '../client.js';
import { nodeRefOf } from '../owner.js';
import { type BlobStore, SealedState } from '../sealed.js';

export const EXAMPLE_APP_ID = 'example-app';
/** The state the app keeps sealed, under this name. */
export const EXAMPLE_STATE_NAME = 'ledger';

export interface ExampleAppEnvironment {
  readonly nodes: readonly string[];
  readonly attest: Attester;
  readonly blobs: BlobStore;
}

/** The bytes of this module as it runs: what its simulated enclave measures. */
export function exampleAppBytes(): Uint8Array {
  return new Uint8Array(readFileSync(fileURLToPath(import.meta.url)));
}

async function sealedState(
  environment: ExampleAppEnvironment,
  key: Awaited<ReturnType<KmsClient['create']>>,
) {
  const nodes = await Promise.all(environment.nodes.map(async (url) => ({ url, ref: await nodeRefOf(url) })));
  return new SealedState({ key, nodes, blobs: environment.blobs });
}

function client(environment: ExampleAppEnvironment): KmsClient {
  return new KmsClient({ appId: EXAMPLE_APP_ID, nodes: environment.nodes, attest: environment.attest });
}

/** First start: a new app key, split across the nodes, and the initial state sealed under it. */
export async function firstStart(environment: ExampleAppEnvironment, initialState: string) {
  const key = await client(environment).create();
  const written = await (await sealedState(environment, key)).write(
    EXAMPLE_STATE_NAME,
    utf8Encode(initialState),
  );
  return { key, written };
}

/** A later start (on any machine): the app key recovered from the nodes, and the sealed state read back. */
export async function laterStart(environment: ExampleAppEnvironment) {
  const { key, used } = await client(environment).recover();
  const state = await (await sealedState(environment, key)).read(EXAMPLE_STATE_NAME);
  return { key, used, state };
}
