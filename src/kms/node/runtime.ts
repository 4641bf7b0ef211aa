/**
 * Node runtime for a KMS node: the node's long-term keys on disk, the store (SQLite by default,
 * PostgreSQL for a postgres:// URL), explicitly trusted roots, and the HTTP listener.
 */
import { createPrivateKey, sign } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { TrustAnchor } from '../../pki/chain.js';
import { customAnchor } from '../../pki/roots.js';
import { simulatorAnchorFromPem } from '../../runtime/sim/store.js';
import { b64u, fromB64u, parseJsonText, readObject } from '../codec.js';
import {
  type DomainSigner,
  ed25519Generate,
  ed25519Public,
  framed,
  hpkeGenerate,
  nodeIdOf,
  PROTOCOL,
} from '../crypto.js';
import { createKmsNode, type NodeIdentity } from '../server.js';
import { type KmsStore, SqlKmsStore } from '../store.js';
import { openPostgres } from './postgres.js';
import { openSqlite } from './sqlite.js';

export const NODE_KEY_FILE = 'node-key.json';

/** The node's Ed25519 signer on node:crypto (the same signatures as @noble/curves, ~100× faster). */
export function nodeCryptoSigner(seed: Uint8Array): DomainSigner {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(seed)]);
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return async (purpose, body) => new Uint8Array(sign(null, framed([PROTOCOL, purpose, body]), key));
}

/** Loads the node's keys from `dir/node-key.json`, creating them (0600) on first start. */
export async function loadOrCreateNodeIdentity(
  dir: string,
): Promise<{ identity: NodeIdentity; created: boolean }> {
  const path = join(dir, NODE_KEY_FILE);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let created = false;
  if (!existsSync(path)) {
    const hpke = await hpkeGenerate();
    const signing = ed25519Generate();
    const file = {
      hpkePublicKey: b64u(hpke.publicKey),
      hpkePrivateKey: b64u(hpke.privateKey),
      signingSeed: b64u(signing.seed),
    };
    writeFileSync(path, `${JSON.stringify(file)}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(path, 0o600);
    created = true;
  }
  let record: Record<string, unknown>;
  try {
    record = readObject(parseJsonText(readFileSync(path, 'utf8'), path), path, [
      'hpkePublicKey',
      'hpkePrivateKey',
      'signingSeed',
    ]);
  } catch {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `node key file ${path} is not readable`);
  }
  const hpke = {
    publicKey: fromB64u(record.hpkePublicKey, 'hpkePublicKey', 32),
    privateKey: fromB64u(record.hpkePrivateKey, 'hpkePrivateKey', 32),
  };
  const signingSeed = fromB64u(record.signingSeed, 'signingSeed', 32);
  const signingPublicKey = ed25519Public(signingSeed);
  return {
    identity: {
      ref: {
        id: nodeIdOf(hpke.publicKey, signingPublicKey),
        hpkePublicKey: b64u(hpke.publicKey),
        signingPublicKey: b64u(signingPublicKey),
      },
      hpke,
      signingSeed,
      signer: nodeCryptoSigner(signingSeed),
    },
    created,
  };
}

/** Opens the store: a postgres:// URL (tables namespaced per node), else SQLite at `dir/kms.sqlite`. */
export async function openStore(store: string | undefined, dir: string, namespace = ''): Promise<KmsStore> {
  const driver =
    store !== undefined && /^postgres(ql)?:\/\//.test(store)
      ? openPostgres(store)
      : openSqlite(store === undefined || store === 'sqlite' ? join(dir, 'kms.sqlite') : store);
  const kms = new SqlKmsStore(driver, driver.dialect === 'postgres' ? namespace : '');
  await kms.init();
  return kms;
}

export async function loadTrustRoots(paths: readonly string[]): Promise<TrustAnchor[] | undefined> {
  if (paths.length === 0) return undefined;
  return Promise.all(paths.map((path) => customAnchor(path, readFileSync(path, 'utf8'))));
}

export interface StartKmsNodeOptions {
  readonly dir: string;
  readonly port: number;
  readonly host?: string;
  /** `sqlite` (default, in `dir`), a SQLite file path, or a postgres:// URL. */
  readonly store?: string;
  /** PEM files of roots that replace the vendor roots (test CA, development root). */
  readonly trustRoots?: readonly string[];
  /** PEM files of simulator roots to trust explicitly (evidence then verifies as platform `sim`). */
  readonly trustSim?: readonly string[];
}

export async function startKmsNode(options: StartKmsNodeOptions) {
  const { identity, created } = await loadOrCreateNodeIdentity(options.dir);
  const store = await openStore(options.store, options.dir, `n${identity.ref.id.slice(0, 16)}`);
  const anchors = await loadTrustRoots(options.trustRoots ?? []);
  const simulatorRoots = await Promise.all(
    (options.trustSim ?? []).map((path) => simulatorAnchorFromPem(readFileSync(path, 'utf8'), path)),
  );
  const node = createKmsNode({ identity, store, trust: { anchors, simulatorRoots } });
  await node.started();
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const instance = serve(
      { fetch: node.app.fetch, port: options.port, hostname: options.host ?? '127.0.0.1' },
      () => resolve(instance),
    );
  });
  // Keep idle connections open longer than clients do, so a client never reuses a socket the node is
  // closing at that moment (a POST on it would fail with ECONNRESET).
  const http = server as unknown as { keepAliveTimeout: number; headersTimeout: number };
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  const address = server.address() as AddressInfo;
  return {
    identity,
    created,
    port: address.port,
    url: `http://${options.host ?? '127.0.0.1'}:${address.port}`,
    store,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}
