/**
 * The enclave side of the KMS protocol (browser-safe: fetch, WebCrypto, @hpke/core, @noble/*).
 *
 * - {@link KmsClient.create}: a secret born here, split t-of-n, each share HPKE-sealed to one node's key,
 *   registered at every node with evidence binding the whole epoch record and every node's nonce.
 * - {@link KmsClient.recover}: fresh nonces, an ephemeral key, evidence binding both; t shares back, each
 *   checked against its commitment, combined, checked against the key-check value.
 * - {@link KmsClient.rotate} (new secret) and {@link KmsClient.reshare} (same secret, the current
 *   policy's node set and threshold), each a new epoch.
 *
 * The attester is the caller's: a function from 64 bytes of report data to evidence bytes.
 */
import { ErrorCode, VeriteeError } from '../errors.js';
import { b64u, canonicalJson, fromB64u, type Json, parseJsonText } from './codec.js';
import {
  checkKeyCheck,
  combineShares,
  derive,
  ed25519Public,
  HpkeRecipient,
  hpkeSeal,
  keyCheckKey,
  randomBytes,
  SECRET_BYTES,
  shareCommitment,
  shareInfo,
  splitSecret,
} from './crypto.js';
import {
  createBinding,
  type EpochRecord,
  type NodeNonce,
  type NodeRef,
  type PolicyChange,
  parseEpochRecord,
  parseNodeRef,
  parseRecoverResponse,
  parseSignedPolicyChange,
  policyChangeHash,
  policyChangeSignedBy,
  recoverBinding,
  type SealedShare,
  type SignedPolicyChange,
  sealedShareDigest,
} from './messages.js';

/** Produces evidence whose report data (user data on Nitro) is exactly `reportData` (64 bytes). */
export type Attester = (reportData: Uint8Array) => Promise<Uint8Array>;

export interface KmsClientOptions {
  readonly appId: string;
  /** Base URLs of the nodes (any order; each node says who it is). */
  readonly nodes: readonly string[];
  readonly attest: Attester;
  /** When set, the app's registration must name this owner key (base64url Ed25519). */
  readonly owner?: string;
  readonly fetch?: typeof fetch;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
}

export interface NodeFailure {
  readonly node: string;
  readonly code: string;
  readonly message: string;
}

/** A recovered (or created) app secret and what it derives. Keep it inside the enclave. */
export class AppKey {
  readonly appId: string;
  readonly epoch: number;
  readonly record: EpochRecord;
  readonly #secret: Uint8Array;

  constructor(appId: string, epoch: number, record: EpochRecord, secret: Uint8Array) {
    this.appId = appId;
    this.epoch = epoch;
    this.record = record;
    this.#secret = secret.slice();
  }

  /** HKDF-SHA256 purpose key (labels under `veritee/kms/v1`). */
  derive(purpose: string, context: readonly string[] = [], length = 32): Uint8Array {
    return derive(this.#secret, this.appId, purpose, context, length);
  }

  /** The app's Ed25519 signing key: `{seed, publicKey}`. */
  signingKey() {
    const seed = this.derive('signing');
    return { seed, publicKey: ed25519Public(seed) };
  }

  /** The disk-encryption key (AES-256). */
  diskKey(): Uint8Array {
    return this.derive('disk');
  }

  /** A per-instance sub-key. */
  instanceKey(instanceId: string): Uint8Array {
    return this.derive('instance', [instanceId]);
  }

  /** The key-check key (authenticates sealed-state version bumps). */
  keyCheckSeed(): Uint8Array {
    return keyCheckKey(this.#secret, this.appId).seed;
  }

  /** The raw secret, for a reshare. */
  exportSecret(): Uint8Array {
    return this.#secret.slice();
  }

  /** Overwrites the secret in memory. */
  destroy(): void {
    this.#secret.fill(0);
  }
}

export interface RecoverReport {
  readonly key: AppKey;
  /** Nodes whose shares were combined. */
  readonly used: readonly string[];
  /** Every node that returned a share matching its commitment. */
  readonly valid: readonly string[];
  /** Nodes that failed or returned a bad share, with why. */
  readonly failures: readonly NodeFailure[];
}

interface NodeHandle {
  readonly url: string;
  readonly ref: NodeRef;
}

function unavailable(url: string, error: unknown): VeriteeError {
  if (error instanceof VeriteeError) return error;
  const cause = (error as { cause?: { code?: unknown } })?.cause?.code;
  return new VeriteeError(ErrorCode.KMS_NODE_UNAVAILABLE, `node ${url} unreachable`, {
    details:
      error instanceof Error ? `${error.name}${typeof cause === 'string' ? ` ${cause}` : ''}` : undefined,
  });
}

export class KmsClient {
  readonly appId: string;
  readonly #options: KmsClientOptions;
  readonly #fetch: typeof fetch;

  constructor(options: KmsClientOptions) {
    this.appId = options.appId;
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** One JSON request; a node's `{error}` becomes a VeriteeError with the node's code. */
  async #call(url: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await this.#fetch(`${url.replace(/\/$/, '')}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw unavailable(url, error);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw unavailable(url, error);
    }
    let json: unknown;
    try {
      json = parseJsonText(text, 'response');
    } catch {
      throw new VeriteeError(
        ErrorCode.KMS_NODE_RESPONSE_INVALID,
        `node ${url} answered ${response.status} without JSON`,
      );
    }
    if (!response.ok) {
      const error = (json as { error?: { code?: unknown; message?: unknown } })?.error;
      const code =
        typeof error?.code === 'string' && error.code in ErrorCode
          ? (error.code as ErrorCode)
          : ErrorCode.KMS_NODE_RESPONSE_INVALID;
      const message =
        typeof error?.message === 'string' ? error.message.slice(0, 300) : `HTTP ${response.status}`;
      throw new VeriteeError(code, `node ${url}: ${message}`);
    }
    return json;
  }

  /** Every reachable node's identity (id checked against its keys). */
  async #handles(): Promise<{ handles: NodeHandle[]; failures: NodeFailure[] }> {
    const settled = await Promise.allSettled(
      this.#options.nodes.map(async (url) => ({
        url,
        ref: parseNodeRef(await this.#call(url, '/v1/node'), 'node'),
      })),
    );
    const handles: NodeHandle[] = [];
    const failures: NodeFailure[] = [];
    settled.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') handles.push(outcome.value);
      else failures.push(failureOf(this.#options.nodes[index]!, outcome.reason));
    });
    return { handles, failures };
  }

  /**
   * The app's current policy: the highest version any node holds whose chain of owner signatures
   * verifies from the registration (and, when `owner` is set, whose registration names that owner).
   */
  async policy(): Promise<{
    signed: SignedPolicyChange;
    history: readonly SignedPolicyChange[];
    hash: string;
  }> {
    const settled = await Promise.allSettled(
      this.#options.nodes.map((url) => this.#call(url, `/v1/apps/${this.appId}`)),
    );
    let best: SignedPolicyChange[] | undefined;
    for (const outcome of settled) {
      if (outcome.status !== 'fulfilled') continue;
      try {
        const policies = (outcome.value as { policies?: unknown }).policies;
        if (!Array.isArray(policies)) continue;
        const chain = verifyPolicyChain(
          policies.map((item, index) => parseSignedPolicyChange(item, `policies/${index}`)),
          this.appId,
          this.#options.owner,
        );
        if (best === undefined || chain.length > best.length) best = chain;
      } catch {
        // A node with a bad history is ignored; another may hold the good one.
      }
    }
    if (best === undefined || best.length === 0) {
      throw new VeriteeError(ErrorCode.KMS_APP_UNKNOWN, `no node holds a valid policy for "${this.appId}"`);
    }
    const signed = best.at(-1)!;
    return { signed, history: best, hash: policyChangeHash(signed.change) };
  }

  /** Epoch records that at least `threshold` nodes agree on, newest last. */
  async epochs(): Promise<readonly { record: EpochRecord; retired: boolean }[]> {
    return (await this.#epochVotes()).filter((vote) => vote.count >= vote.record.threshold);
  }

  /** Every epoch record any node reports, with how many nodes report it exactly so. */
  async #epochVotes(): Promise<{ record: EpochRecord; retired: boolean; count: number }[]> {
    const settled = await Promise.allSettled(
      this.#options.nodes.map((url) => this.#call(url, `/v1/apps/${this.appId}`)),
    );
    const votes = new Map<string, { record: EpochRecord; count: number; retired: number }>();
    for (const outcome of settled) {
      if (outcome.status !== 'fulfilled') continue;
      const epochs = (outcome.value as { epochs?: unknown }).epochs;
      if (!Array.isArray(epochs)) continue;
      for (const item of epochs) {
        try {
          const record = parseEpochRecord((item as { record?: unknown }).record);
          if (record.appId !== this.appId) continue;
          const key = canonicalJson(record);
          const vote = votes.get(key) ?? { record, count: 0, retired: 0 };
          vote.count++;
          if ((item as { retired?: unknown }).retired === true) vote.retired++;
          votes.set(key, vote);
        } catch {
          // Ignore a malformed record from one node.
        }
      }
    }
    return [...votes.values()]
      .map((vote) => ({ record: vote.record, retired: vote.retired > 0, count: vote.count }))
      .sort((a, b) => a.record.epoch - b.record.epoch);
  }

  async #nonces(handles: readonly NodeHandle[]) {
    const settled = await Promise.allSettled(
      handles.map(async (handle) => {
        const answer = (await this.#call(handle.url, `/v1/apps/${this.appId}/nonce`, {})) as {
          node?: unknown;
          nonce?: unknown;
        };
        if (answer.node !== handle.ref.id) {
          throw new VeriteeError(
            ErrorCode.KMS_NODE_RESPONSE_INVALID,
            `node ${handle.url} answered as another node`,
          );
        }
        return { handle, nonce: b64u(fromB64u(answer.nonce, 'nonce', 32)) };
      }),
    );
    const ok: { handle: NodeHandle; nonce: string }[] = [];
    const failures: NodeFailure[] = [];
    settled.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') ok.push(outcome.value);
      else failures.push(failureOf(handles[index]!.url, outcome.reason));
    });
    ok.sort((a, b) => (a.handle.ref.id < b.handle.ref.id ? -1 : 1));
    const nonces: NodeNonce[] = ok.map((entry) => ({ node: entry.handle.ref.id, nonce: entry.nonce }));
    return { ok: ok.map((entry) => entry.handle), nonces, failures };
  }

  /** Creates epoch 1 with a fresh secret (or, with `secret`, a reshare of it). */
  async create(options: { kind?: EpochRecord['kind']; secret?: Uint8Array } = {}): Promise<AppKey> {
    const { signed } = await this.policy();
    const change = signed.change;
    const { handles } = await this.#handles();
    const byId = new Map(handles.map((handle) => [handle.ref.id, handle]));
    const members = change.nodes.map((node) => {
      const handle = byId.get(node.id);
      if (handle === undefined || handle.ref.hpkePublicKey !== node.hpkePublicKey) {
        throw new VeriteeError(
          ErrorCode.KMS_NODE_UNAVAILABLE,
          `node ${node.id} of the policy is not reachable`,
          {
            details: 'create needs every node of the set',
          },
        );
      }
      return handle;
    });
    const existing = await this.epochs();
    const epoch = (existing.at(-1)?.record.epoch ?? 0) + 1;
    const secret = options.secret?.slice() ?? randomBytes(SECRET_BYTES);
    const shares = await splitSecret(secret, members.length, change.threshold);
    const salt = randomBytes(32);
    const sealedShares: SealedShare[] = [];
    for (const [position, member] of members.entries()) {
      const index = position + 1;
      const sealed = await hpkeSeal(
        fromB64u(member.ref.hpkePublicKey, 'hpkePublicKey'),
        shareInfo('to-node', this.appId, epoch, index),
        shares[position]!,
      );
      sealedShares.push({ index, enc: b64u(sealed.enc), ct: b64u(sealed.ct) });
    }
    const record: EpochRecord = {
      appId: this.appId,
      epoch,
      kind: options.kind ?? (epoch === 1 ? 'create' : 'rotate'),
      policyVersion: change.version,
      threshold: change.threshold,
      nodes: members.map((member) => member.ref.id),
      kcv: b64u(keyCheckKey(secret, this.appId).publicKey),
      salt: b64u(salt),
      commitments: shares.map((share, position) =>
        b64u(shareCommitment(salt, this.appId, epoch, position + 1, share)),
      ),
      sealedShares: sealedShares.map(sealedShareDigest),
      createdAt: new Date().toISOString(),
    };
    for (const share of shares) share.fill(0);
    const { nonces, failures } = await this.#nonces(members);
    if (failures.length > 0) throw firstFailure(failures, 'create needs a nonce from every node');
    const evidence = await this.#options.attest(createBinding(record, nonces));
    const base64 = toBase64Text(evidence);
    const settled = await Promise.allSettled(
      members.map((member, position) =>
        this.#call(member.url, `/v1/apps/${this.appId}/epochs`, {
          record,
          share: sealedShares[position],
          nonces,
          evidence: base64,
        }),
      ),
    );
    const refused = settled.flatMap((outcome, position) =>
      outcome.status === 'rejected' ? [failureOf(members[position]!.url, outcome.reason)] : [],
    );
    if (refused.length > 0) throw firstFailure(refused, `epoch ${epoch} was not stored by every node`);
    const key = new AppKey(this.appId, epoch, record, secret);
    secret.fill(0);
    return key;
  }

  /** Recovers an epoch's secret (default: the newest live epoch) from any t nodes. */
  async recover(options: { epoch?: number } = {}): Promise<RecoverReport> {
    // The epoch records and the node identities are independent: one round trip for both.
    const [allVotes, { handles, failures }] = await Promise.all([this.#epochVotes(), this.#handles()]);
    const votes = allVotes.filter((entry) => !entry.retired);
    const wanted = (entry: { record: EpochRecord }) =>
      options.epoch === undefined || entry.record.epoch === options.epoch;
    const epochs = votes.filter((vote) => vote.count >= vote.record.threshold);
    const chosen = options.epoch === undefined ? epochs.at(-1) : epochs.find(wanted);
    const weak = votes.filter(wanted).at(-1);
    if (
      chosen === undefined &&
      weak !== undefined &&
      (options.epoch !== undefined || weak.record.epoch > 0)
    ) {
      throw new VeriteeError(
        ErrorCode.KMS_NOT_ENOUGH_SHARES,
        `only ${weak.count} of the ${weak.record.threshold} nodes needed for epoch ${weak.record.epoch} are reachable`,
      );
    }
    if (chosen === undefined) {
      throw new VeriteeError(
        ErrorCode.KMS_EPOCH_UNKNOWN,
        `no live epoch${options.epoch === undefined ? '' : ` ${options.epoch}`} that enough nodes agree on`,
      );
    }
    const record = chosen.record;
    const members = handles.filter((handle) => record.nodes.includes(handle.ref.id));
    if (members.length < record.threshold) {
      throw new VeriteeError(
        ErrorCode.KMS_NOT_ENOUGH_SHARES,
        `only ${members.length} of the ${record.threshold} nodes needed are reachable`,
        {
          details: summary(failures),
        },
      );
    }
    const nonceRound = await this.#nonces(members);
    failures.push(...nonceRound.failures);
    if (nonceRound.ok.length < record.threshold) {
      throw new VeriteeError(
        ErrorCode.KMS_NOT_ENOUGH_SHARES,
        `only ${nonceRound.ok.length} of the ${record.threshold} nodes needed answered`,
        {
          details: summary(failures),
        },
      );
    }
    const ephemeral = await HpkeRecipient.generate();
    const good = new Map<string, Uint8Array>();
    try {
      const ephemeralPublicKey = b64u(ephemeral.publicKey);
      const evidence = toBase64Text(
        await this.#options.attest(
          recoverBinding(this.appId, record.epoch, ephemeralPublicKey, nonceRound.nonces),
        ),
      );
      await Promise.allSettled(
        nonceRound.ok.map(async (handle) => {
          try {
            const answer = parseRecoverResponse(
              await this.#call(handle.url, `/v1/apps/${this.appId}/recover`, {
                epoch: record.epoch,
                ephemeralPublicKey,
                nonces: nonceRound.nonces,
                evidence,
              }),
              record.nodes.length,
            );
            good.set(handle.ref.id, await this.#openShare(record, handle, answer, ephemeral));
          } catch (error) {
            failures.push(failureOf(handle.url, error));
          }
        }),
      );
    } finally {
      ephemeral.destroy();
    }
    if (good.size < record.threshold) {
      throw new VeriteeError(
        ErrorCode.KMS_NOT_ENOUGH_SHARES,
        `${good.size} good shares, ${record.threshold} needed`,
        {
          details: summary(failures),
        },
      );
    }
    const used = [...good.keys()].slice(0, record.threshold);
    const secret = await combineShares(used.map((id) => good.get(id)!));
    for (const share of good.values()) share.fill(0);
    checkKeyCheck(secret, this.appId, record.epoch, fromB64u(record.kcv, 'kcv'));
    const key = new AppKey(this.appId, record.epoch, record, secret);
    secret.fill(0);
    return { key, used, valid: [...good.keys()], failures };
  }

  async #openShare(
    record: EpochRecord,
    handle: NodeHandle,
    answer: ReturnType<typeof parseRecoverResponse>,
    ephemeral: HpkeRecipient,
  ): Promise<Uint8Array> {
    const index = record.nodes.indexOf(handle.ref.id) + 1;
    if (answer.node !== handle.ref.id || answer.epoch !== record.epoch || answer.share.index !== index) {
      throw new VeriteeError(
        ErrorCode.KMS_SHARE_INVALID,
        `node ${handle.url} answered for another node, epoch or index`,
      );
    }
    const share = await ephemeral.open(
      shareInfo('to-enclave', this.appId, record.epoch, index),
      { enc: fromB64u(answer.share.enc, 'enc'), ct: fromB64u(answer.share.ct, 'ct') },
      ErrorCode.KMS_SHARE_INVALID,
      `share from ${handle.url}`,
    );
    const commitment = b64u(
      shareCommitment(fromB64u(record.salt, 'salt'), this.appId, record.epoch, index, share),
    );
    if (commitment !== record.commitments[index - 1]) {
      share.fill(0);
      throw new VeriteeError(
        ErrorCode.KMS_SHARE_INVALID,
        `share from node ${handle.ref.id} does not match its commitment`,
      );
    }
    return share;
  }

  /** A new epoch with a new secret under the current policy. */
  rotate(): Promise<AppKey> {
    return this.create({ kind: 'rotate' });
  }

  /** A new epoch holding `key`'s secret, split under the current policy's node set and threshold. */
  async reshare(key: AppKey): Promise<AppKey> {
    const secret = key.exportSecret();
    try {
      return await this.create({ kind: 'reshare', secret });
    } finally {
      secret.fill(0);
    }
  }
}

function failureOf(url: string, error: unknown): NodeFailure {
  const typed = unavailable(url, error);
  return { node: url, code: typed.code, message: typed.message };
}

function summary(failures: readonly NodeFailure[]): string {
  return failures
    .map((failure) => `${failure.node}: ${failure.code} (${failure.message.slice(-60)})`)
    .join('; ');
}

function firstFailure(failures: readonly NodeFailure[], what: string): VeriteeError {
  const first = failures[0]!;
  return new VeriteeError(first.code as ErrorCode, what, { details: summary(failures) });
}

function toBase64Text(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Checks a policy history: version 1 self-signed by its owner (and naming `owner` when given), each
 * later version linked to its predecessor's hash and signed by the predecessor's owner.
 */
export function verifyPolicyChain(
  history: readonly SignedPolicyChange[],
  appId: string,
  owner?: string,
): SignedPolicyChange[] {
  const out: SignedPolicyChange[] = [];
  let previous: PolicyChange | undefined;
  for (const signed of history) {
    const change = signed.change;
    const broken = (why: string) => new VeriteeError(ErrorCode.KMS_OWNER_SIGNATURE, `policy history: ${why}`);
    if (change.appId !== appId) throw broken('another app');
    if (previous === undefined) {
      if (change.version !== 1 || !/^0{64}$/.test(change.prev)) throw broken('does not start at version 1');
      if (owner !== undefined && change.owner !== owner) throw broken('registered by another owner');
      if (!policyChangeSignedBy(signed, change.owner)) throw broken('registration signature');
    } else {
      if (change.version !== previous.version + 1 || change.prev !== policyChangeHash(previous)) {
        throw broken(`version ${change.version} does not follow ${previous.version}`);
      }
      if (!policyChangeSignedBy(signed, previous.owner)) throw broken(`version ${change.version} signature`);
    }
    out.push(signed);
    previous = change;
  }
  return out;
}

export type { Json };
