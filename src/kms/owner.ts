/**
 * The app owner's side: register an app and change its release policy, node set or threshold with a
 * signed, versioned change; retire old epochs. The owner key is Ed25519 (a 32-byte seed).
 *
 * `publishPolicy` brings every node up to the full history: a node that joins later receives versions
 * 1..v in order, each of which it checks itself.
 */
import { ErrorCode, VeriteeError } from '../errors.js';
import { KmsClient } from './client.js';
import { b64u, type Json, parseJsonText } from './codec.js';
import { ed25519Public } from './crypto.js';
import {
  GENESIS_PREV,
  type NodeRef,
  parseNodeRef,
  policyChangeHash,
  type SignedPolicyChange,
  signPolicyChange,
  signRetire,
} from './messages.js';

export interface PublishOptions {
  readonly appId: string;
  readonly ownerSeed: Uint8Array;
  /** The release policy (the `veritee verify` policy language); must pin a measurement. */
  readonly policy: Json;
  readonly threshold: number;
  /** URLs of the nodes of the new set. */
  readonly nodes: readonly string[];
  /** Other nodes that must learn the change (e.g. an old set still holding epochs). */
  readonly alsoNotify?: readonly string[];
  /** Hand the app to a new owner key from this version on (base64url Ed25519 public key). */
  readonly newOwner?: string;
  readonly fetch?: typeof fetch;
}

async function call(fetcher: typeof fetch, url: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetcher(`${url.replace(/\/$/, '')}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    throw new VeriteeError(ErrorCode.KMS_NODE_UNAVAILABLE, `node ${url} unreachable`);
  }
  const json = parseJsonText(await response.text(), 'response') as {
    error?: { code?: string; message?: string };
  };
  if (!response.ok) {
    const code =
      json.error?.code !== undefined && json.error.code in ErrorCode
        ? (json.error.code as ErrorCode)
        : ErrorCode.KMS_NODE_RESPONSE_INVALID;
    throw new VeriteeError(
      code,
      `node ${url}: ${String(json.error?.message ?? response.status).slice(0, 300)}`,
    );
  }
  return json;
}

export async function nodeRefOf(url: string, fetcher: typeof fetch = globalThis.fetch): Promise<NodeRef> {
  return parseNodeRef(await call(fetcher, url, '/v1/node'), 'node');
}

/** Signs and publishes the next policy version; returns the signed change. */
export async function publishPolicy(options: PublishOptions): Promise<SignedPolicyChange> {
  const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  const owner = b64u(ed25519Public(options.ownerSeed));
  const everyone = [...new Set([...options.nodes, ...(options.alsoNotify ?? [])])];
  const client = new KmsClient({ appId: options.appId, nodes: everyone, attest: noAttester, fetch: fetcher });
  let history: readonly SignedPolicyChange[] = [];
  try {
    history = (await client.policy()).history;
  } catch (error) {
    if (!(error instanceof VeriteeError) || error.code !== ErrorCode.KMS_APP_UNKNOWN) throw error;
  }
  const previous = history.at(-1)?.change;
  if (previous !== undefined && previous.owner !== owner) {
    throw new VeriteeError(ErrorCode.KMS_OWNER_SIGNATURE, 'this key is not the app owner');
  }
  const refs = await Promise.all(options.nodes.map((url) => nodeRefOf(url, fetcher)));
  const signed = signPolicyChange(
    {
      appId: options.appId,
      version: (previous?.version ?? 0) + 1,
      prev: previous === undefined ? GENESIS_PREV : policyChangeHash(previous),
      owner: options.newOwner ?? owner,
      policy: options.policy,
      threshold: options.threshold,
      nodes: refs,
      issuedAt: new Date().toISOString(),
    },
    options.ownerSeed,
  );
  const full = [...history, signed];
  await Promise.all(everyone.map((url) => syncNode(fetcher, url, options.appId, full)));
  return signed;
}

/** Posts the versions a node lacks, in order. */
async function syncNode(
  fetcher: typeof fetch,
  url: string,
  appId: string,
  full: readonly SignedPolicyChange[],
) {
  let held = 0;
  try {
    const state = (await call(fetcher, url, `/v1/apps/${appId}`)) as { policies?: unknown[] };
    held = Array.isArray(state.policies) ? state.policies.length : 0;
  } catch (error) {
    if (!(error instanceof VeriteeError) || error.code !== ErrorCode.KMS_APP_UNKNOWN) throw error;
  }
  for (const signed of full.slice(held)) await call(fetcher, url, `/v1/apps/${appId}/policy`, signed);
}

/** Retires an epoch at every given node (they erase their shares of it). */
export async function retireEpoch(options: {
  appId: string;
  epoch: number;
  ownerSeed: Uint8Array;
  nodes: readonly string[];
  fetch?: typeof fetch;
}): Promise<void> {
  const fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
  const body = signRetire(
    { appId: options.appId, epoch: options.epoch, issuedAt: new Date().toISOString() },
    options.ownerSeed,
  );
  await Promise.all(
    options.nodes.map((url) =>
      call(fetcher, url, `/v1/apps/${options.appId}/epochs/${options.epoch}/retire`, body),
    ),
  );
}

async function noAttester(): Promise<Uint8Array> {
  throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'the owner client does not attest');
}
