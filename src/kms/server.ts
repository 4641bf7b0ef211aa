/**
 * The key-management node as a Web `Request → Response` app (Hono), over a {@link KmsStore}.
 *
 * What a node checks before it releases its share (each failure is a typed error and an audit entry):
 * the app is registered; the epoch exists and is not retired; the nonce is one this node issued for
 * this app, unused and unexpired (it is spent by the attempt); the evidence verifies against this
 * node's trust roots and the app's current release policy; the evidence's report data equals the
 * binding of app, epoch, the enclave's ephemeral key and every node's nonce; the stored share opens
 * and matches its published commitment. The share is then sealed (HPKE) to the ephemeral key.
 *
 * What it does not check: that other nodes behave (the client checks commitments and the key-check
 * value); the freshness of evidence beyond the single-use nonce (add `maxAgeSeconds` to the policy).
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { toHex, utf8Decode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { TrustAnchor } from '../pki/chain.js';
import type { Policy } from '../policy/types.js';
import type { AttestationResult } from '../result.js';
import { readBodyLimited } from '../stream.js';
import { loadPolicy, verify } from '../verify.js';
import { VERSION } from '../version.js';
import { type AuditEvent, buildAuditEntry } from './audit.js';
import { APP_ID, b64u, fromB64u, parseJsonText, readInt } from './codec.js';
import {
  type DomainSigner,
  type HpkeKeyPair,
  HpkeRecipient,
  hpkeSeal,
  nobleSigner,
  randomBytes,
  shareCommitment,
  shareInfo,
  verifyFor,
} from './crypto.js';
import {
  type Countersigned,
  createBinding,
  type EpochRecord,
  GENESIS_PREV,
  type NodeRef,
  type PolicyChange,
  parseCreateRequest,
  parseEpochRecord,
  parseRecoverRequest,
  parseRetire,
  parseSealedBump,
  parseSignedPolicyChange,
  policyChangeHash,
  policyChangeSignedBy,
  recoverBinding,
  retireSignedBy,
  SEALED_NAME,
  sealedShareDigest,
  sealedVersionBytes,
} from './messages.js';
import type { KmsStore, NonceOutcome } from './store.js';

export interface NodeIdentity {
  readonly ref: NodeRef;
  readonly hpke: HpkeKeyPair;
  readonly signingSeed: Uint8Array;
  /** Fast signer for the node key (node:crypto in the Node runtime). Default: @noble/curves. */
  readonly signer?: DomainSigner;
}

/** How the node verifies evidence. Roots are trusted only when given here; nothing is added silently. */
export interface NodeTrust {
  /** Replace the embedded vendor roots (a test CA, a development root). */
  readonly anchors?: readonly TrustAnchor[] | undefined;
  /**
   * Simulator development roots, trusted only when given (never by default). Evidence chaining to one
   * verifies as platform `sim`, which a release policy accepts only when it lists `"sim"`.
   */
  readonly simulatorRoots?: readonly TrustAnchor[] | undefined;
  /** Evidence endorsements passed to `verify` (Intel collateral, AMD VCEK). */
  readonly collateral?: unknown;
}

export interface KmsNodeOptions {
  readonly identity: NodeIdentity;
  readonly store: KmsStore;
  readonly trust?: NodeTrust;
  /** Clock (tests pin it). */
  readonly now?: () => Date;
  /** Nonce lifetime. Default 120 s. */
  readonly nonceTtlMs?: number;
  /**
   * Where issued nonces live. `memory` (default): no disk write per nonce; a restart forgets every
   * outstanding nonce, so requests holding one are refused (fail closed) and the enclave asks again.
   * `store`: in the database, for several replicas of one node sharing it.
   */
  readonly nonces?: 'memory' | 'store';
  /** Outstanding nonces kept in memory at most (then `RATE_LIMITED`). Default 100,000. */
  readonly maxNonces?: number;
  /** Largest request body. Default 256 KiB. */
  readonly maxBodyBytes?: number;
  readonly logger?: { info(fields: Record<string, unknown>, message: string): void };
}

const HTTP_STATUS: Partial<Record<string, number>> = {
  [ErrorCode.ARGUMENT_INVALID]: 400,
  [ErrorCode.POLICY_INVALID]: 400,
  [ErrorCode.KMS_OWNER_SIGNATURE]: 403,
  [ErrorCode.KMS_POLICY_REJECTED]: 403,
  [ErrorCode.KMS_NONCE_UNKNOWN]: 403,
  [ErrorCode.KMS_NONCE_REUSED]: 403,
  [ErrorCode.KMS_NONCE_EXPIRED]: 403,
  [ErrorCode.KMS_BINDING_MISMATCH]: 403,
  [ErrorCode.KMS_NODE_NOT_IN_SET]: 403,
  [ErrorCode.KMS_APP_UNKNOWN]: 404,
  [ErrorCode.KMS_EPOCH_UNKNOWN]: 404,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.KMS_APP_EXISTS]: 409,
  [ErrorCode.KMS_POLICY_VERSION]: 409,
  [ErrorCode.KMS_EPOCH_EXISTS]: 409,
  [ErrorCode.KMS_SEALED_VERSION]: 409,
  [ErrorCode.KMS_EPOCH_RETIRED]: 410,
  [ErrorCode.REQUEST_TOO_LARGE]: 413,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.KMS_SHARE_CORRUPT]: 500,
  [ErrorCode.KMS_STORE_FAILED]: 503,
};

function errorResponse(error: VeriteeError): Response {
  return Response.json(
    { error: { code: error.code, message: error.message } },
    { status: HTTP_STATUS[error.code] ?? 422 },
  );
}

async function readJson(request: Request, limit: number): Promise<unknown> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new VeriteeError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send application/json');
  }
  if (request.body === null) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'request body is empty');
  const bytes = await readBodyLimited(
    request,
    limit,
    () => new VeriteeError(ErrorCode.REQUEST_TOO_LARGE, `request body over ${limit} bytes`),
  );
  return parseJsonText(utf8Decode(bytes, 'body'));
}

/** The release policy of a change: must parse, and must pin at least one measurement. */
export function releasePolicyOf(change: PolicyChange): Policy {
  const json = change.policy as { measurements?: Record<string, unknown> };
  if (json.measurements === undefined || Object.keys(json.measurements).length === 0) {
    throw new VeriteeError(ErrorCode.POLICY_INVALID, 'a release policy must pin at least one measurement');
  }
  return loadPolicy(change.policy);
}

/** `parse` memoised by the exact text (bounded): for records this node stored itself. */
function parsedOnce<T>(parse: (text: string) => T, max = 1024): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    let value = cache.get(text);
    if (value === undefined) {
      value = parse(text);
      if (cache.size >= max) cache.clear();
      cache.set(text, value);
    }
    return value;
  };
}

/** The 64-byte value the evidence binds: report data (SGX/TDX/SNP) or user data (Nitro, simulator). */
export function boundDataOf(result: AttestationResult): string | undefined {
  return result.reportData ?? result.userData;
}

function measurementSummary(result: AttestationResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['pcr0', 'mrenclave', 'mrtd', 'measurement']) {
    const value = result.measurements[key];
    if (value !== undefined) out[key] = value.slice(0, 24);
  }
  return out;
}

interface NonceRegistry {
  issue(nonce: string, appId: string, expiresAt: number, now: number): Promise<void>;
  consume(nonce: string, appId: string, now: number): Promise<NonceOutcome>;
}

/** Nonces in the database (shared by replicas of one node). */
function storeNonces(store: KmsStore, ttl: number): NonceRegistry {
  let issued = 0;
  return {
    async issue(nonce, appId, expiresAt, now) {
      if (issued++ % 64 === 0) await store.pruneNonces(now - ttl);
      await store.addNonce(nonce, appId, expiresAt);
    },
    consume: (nonce, appId, now) => store.consumeNonce(nonce, appId, now),
  };
}

/** Nonces in memory: single use, expiring; forgotten (so refused) when the process restarts. */
function memoryNonces(max: number): NonceRegistry {
  const live = new Map<string, { appId: string; expiresAt: number }>();
  const spent = new Map<string, number>();
  const prune = (now: number) => {
    for (const [nonce, entry] of live) if (entry.expiresAt < now) live.delete(nonce);
    for (const [nonce, expiresAt] of spent) if (expiresAt < now) spent.delete(nonce);
  };
  return {
    async issue(nonce, appId, expiresAt, now) {
      if (live.size + spent.size >= max) prune(now);
      if (live.size + spent.size >= max) {
        throw new VeriteeError(ErrorCode.RATE_LIMITED, 'too many outstanding nonces; try again later');
      }
      live.set(nonce, { appId, expiresAt });
    },
    async consume(nonce, appId, now) {
      if (spent.has(nonce)) return 'used';
      const entry = live.get(nonce);
      if (entry === undefined) return 'unknown';
      if (entry.appId !== appId) return 'other-app';
      live.delete(nonce);
      // Remembered as spent until well after it would have expired, so a replay says "reused".
      spent.set(nonce, entry.expiresAt + 10 * 60_000);
      return entry.expiresAt <= now ? 'expired' : 'ok';
    },
  };
}

/** Builds a node. */
export function createKmsNode(options: KmsNodeOptions) {
  const { identity, store } = options;
  const now = options.now ?? (() => new Date());
  const limit = options.maxBodyBytes ?? 256 * 1024;
  const nonceTtl = options.nonceTtlMs ?? 120_000;
  const nodeId = identity.ref.id;
  const signer = identity.signer ?? nobleSigner(identity.signingSeed);
  // The node's HPKE key, imported once for every share it opens.
  const recipient = HpkeRecipient.fromKeyPair(identity.hpke);
  recipient.catch(() => undefined); // awaited (and so reported) where a share is opened
  const app = new Hono();

  // Group commit: entries that arrive while a commit is in flight go into the next one together.
  const pendingAudit: {
    event: AuditEvent;
    resolve: (seq: number) => void;
    reject: (error: unknown) => void;
  }[] = [];
  let flushing = false;

  async function flushAudit(): Promise<void> {
    flushing = true;
    while (pendingAudit.length > 0) {
      const batch = pendingAudit.splice(0, 256);
      try {
        const written = await store.appendAudit(
          batch.map((item) => async (previous) => {
            const entry = await buildAuditEntry(previous, nodeId, item.event, now(), signer);
            return { seq: entry.seq, hash: entry.hash, entry: JSON.stringify(entry) };
          }),
        );
        for (const [index, item] of batch.entries()) item.resolve(written[index]!.seq);
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    flushing = false;
  }

  /** Appends an entry; resolves with its sequence number once it is committed. */
  function audit(event: AuditEvent): Promise<number> {
    return new Promise((resolve, reject) => {
      pendingAudit.push({ event, resolve, reject });
      if (!flushing) void flushAudit();
    });
  }

  // Stored records are re-read on every request (so a change is seen at once) but parsed once per
  // distinct text: the parse of the same text is the same.
  const storedPolicy = parsedOnce((text) => {
    const change = parseSignedPolicyChange(parseJsonText(text), 'stored').change;
    return { change, release: releasePolicyOf(change) };
  });
  const storedEpoch = parsedOnce((text) => parseEpochRecord(parseJsonText(text), 'stored'));

  async function currentPolicy(appId: string) {
    const latest = await store.latestPolicy(appId);
    if (latest === undefined)
      throw new VeriteeError(ErrorCode.KMS_APP_UNKNOWN, `app "${appId}" is not registered`);
    return { ...latest, ...storedPolicy(latest.record) };
  }

  function appIdOf(c: Context): string {
    const appId = c.req.param('app') ?? '';
    if (!APP_ID.test(appId))
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'bad app id', { path: 'app' });
    return appId;
  }

  /**
   * Runs a handler; a refusal for a registered app is written to the audit log with its code.
   * Unregistered app ids are not logged (anyone could fill the log with them).
   */
  async function guarded(
    c: Context,
    type: AuditEvent['type'],
    handler: (appId: string) => Promise<Response>,
    epochOf: () => number | null = () => null,
  ): Promise<Response> {
    let appId: string | undefined;
    try {
      appId = appIdOf(c);
      return await handler(appId);
    } catch (error) {
      const typed =
        error instanceof VeriteeError
          ? error
          : new VeriteeError(ErrorCode.KMS_STORE_FAILED, 'internal failure', { cause: error });
      if (
        appId !== undefined &&
        typed.code !== ErrorCode.KMS_APP_UNKNOWN &&
        typed.code !== ErrorCode.KMS_STORE_FAILED
      ) {
        const registered = await store.latestPolicy(appId).catch(() => undefined);
        if (registered !== undefined) {
          await audit({
            type,
            app: appId,
            epoch: epochOf(),
            outcome: 'refused',
            code: typed.code,
            detail: {},
          }).catch(() => undefined);
        }
      }
      options.logger?.info({ route: c.req.routePath, code: typed.code }, 'refused');
      return errorResponse(typed);
    }
  }

  const nonces =
    options.nonces === 'store' ? storeNonces(store, nonceTtl) : memoryNonces(options.maxNonces ?? 100_000);

  async function consumeNonce(appId: string, list: readonly { node: string; nonce: string }[]) {
    const mine = list.find((entry) => entry.node === nodeId);
    if (mine === undefined) {
      throw new VeriteeError(ErrorCode.KMS_NONCE_UNKNOWN, 'the request carries no nonce from this node');
    }
    const outcome = await nonces.consume(mine.nonce, appId, now().getTime());
    if (outcome === 'used') throw new VeriteeError(ErrorCode.KMS_NONCE_REUSED, 'nonce already used');
    if (outcome === 'expired') throw new VeriteeError(ErrorCode.KMS_NONCE_EXPIRED, 'nonce expired');
    if (outcome !== 'ok')
      throw new VeriteeError(ErrorCode.KMS_NONCE_UNKNOWN, 'nonce not issued by this node for this app');
  }

  async function appraise(evidence: Uint8Array, policy: Policy, binding: Uint8Array) {
    const result = await verify(evidence, {
      at: now(),
      policy,
      anchors: options.trust?.anchors,
      simulatorRoots: options.trust?.simulatorRoots,
      collateral: options.trust?.collateral,
    });
    if (result.verdict === 'contraindicated') {
      const first = result.errors[0];
      throw new VeriteeError(ErrorCode.KMS_POLICY_REJECTED, 'evidence does not satisfy the release policy', {
        details: first === undefined ? undefined : `${first.code}: ${first.message.slice(0, 160)}`,
      });
    }
    if (boundDataOf(result) !== toHex(binding)) {
      throw new VeriteeError(
        ErrorCode.KMS_BINDING_MISMATCH,
        'evidence report data does not bind this request',
      );
    }
    return result;
  }

  app.get('/healthz', (c) => c.json({ status: 'ok', node: nodeId, version: VERSION }));
  app.get('/v1/node', (c) => c.json({ ...identity.ref, version: VERSION }));

  app.get('/v1/audit', async (c) => {
    try {
      const from = readInt(Number(c.req.query('from') ?? '1'), 'from', 1, Number.MAX_SAFE_INTEGER);
      const count = readInt(Number(c.req.query('limit') ?? '1000'), 'limit', 1, 10_000);
      const entries = await store.readAudit(from, count);
      return new Response(`{"node":${JSON.stringify(nodeId)},"entries":[${entries.join(',')}]}`, {
        headers: { 'content-type': 'application/json' },
      });
    } catch (error) {
      if (!(error instanceof VeriteeError)) throw error;
      return errorResponse(error);
    }
  });

  app.get('/v1/apps/:app', (c) =>
    guarded(c, 'policy.refused', async (appId) => {
      const versions = await store.policyVersions(appId);
      if (versions.length === 0)
        throw new VeriteeError(ErrorCode.KMS_APP_UNKNOWN, `app "${appId}" is not registered`);
      const epochs = await store.epochs(appId);
      return Response.json({
        node: nodeId,
        policies: versions.map((version) => parseJsonText(version.record)),
        epochs: epochs.map((row) => ({ record: parseJsonText(row.record), retired: row.retired })),
      });
    }),
  );

  app.post('/v1/apps/:app/policy', (c) =>
    guarded(c, 'policy.refused', async (appId) => {
      const signed = parseSignedPolicyChange(await readJson(c.req.raw, limit));
      const change = signed.change;
      if (change.appId !== appId)
        throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'app id differs from the URL');
      releasePolicyOf(change);
      const latest = await store.latestPolicy(appId);
      if (latest === undefined) {
        if (change.version !== 1 || change.prev !== GENESIS_PREV) {
          throw new VeriteeError(
            ErrorCode.KMS_POLICY_VERSION,
            'registration must be version 1 with a zero prev',
          );
        }
        if (!policyChangeSignedBy(signed, change.owner)) {
          throw new VeriteeError(
            ErrorCode.KMS_OWNER_SIGNATURE,
            'registration is not signed by its owner key',
          );
        }
      } else {
        const current = parseSignedPolicyChange(parseJsonText(latest.record), 'stored').change;
        if (change.version !== latest.version + 1 || change.prev !== latest.hash) {
          throw new VeriteeError(
            ErrorCode.KMS_POLICY_VERSION,
            `expected version ${latest.version + 1} after ${latest.hash.slice(0, 16)}`,
          );
        }
        if (!policyChangeSignedBy(signed, current.owner)) {
          throw new VeriteeError(
            ErrorCode.KMS_OWNER_SIGNATURE,
            'policy change is not signed by the app owner',
          );
        }
      }
      const hash = policyChangeHash(change);
      if (!(await store.addPolicy(appId, change.version, hash, JSON.stringify(signed)))) {
        throw new VeriteeError(ErrorCode.KMS_POLICY_VERSION, `version ${change.version} already exists`);
      }
      const auditSeq = await audit({
        type: 'policy.set',
        app: appId,
        epoch: null,
        outcome: 'ok',
        code: null,
        detail: { version: change.version, hash, threshold: change.threshold, nodes: change.nodes.length },
      });
      return Response.json({ node: nodeId, version: change.version, hash, auditSeq });
    }),
  );

  app.post('/v1/apps/:app/nonce', (c) =>
    guarded(c, 'share.refused', async (appId) => {
      await currentPolicy(appId);
      const nonce = b64u(randomBytes(32));
      const expiresAt = now().getTime() + nonceTtl;
      await nonces.issue(nonce, appId, expiresAt, now().getTime());
      return Response.json({ node: nodeId, nonce, expiresAt: new Date(expiresAt).toISOString() });
    }),
  );

  app.post('/v1/apps/:app/epochs', async (c) => {
    let epoch: number | null = null;
    return guarded(
      c,
      'epoch.refused',
      async (appId) => {
        const request = parseCreateRequest(await readJson(c.req.raw, limit));
        const record = request.record;
        epoch = record.epoch;
        if (record.appId !== appId)
          throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'app id differs from the URL');
        const policy = await currentPolicy(appId);
        checkEpochAgainstPolicy(record, policy.version, policy.change);
        const index = record.nodes.indexOf(nodeId) + 1;
        if (index === 0)
          throw new VeriteeError(ErrorCode.KMS_NODE_NOT_IN_SET, 'this node is not in the epoch');
        if (request.share.index !== index) {
          throw new VeriteeError(
            ErrorCode.KMS_SHARE_INVALID,
            `share index ${request.share.index} is not this node's`,
          );
        }
        if (sealedShareDigest(request.share) !== record.sealedShares[index - 1]) {
          throw new VeriteeError(ErrorCode.KMS_SHARE_INVALID, 'sealed share does not match the epoch record');
        }
        const existing = await store.epochs(appId);
        const last = existing.at(-1)?.epoch ?? 0;
        if (record.epoch <= last)
          throw new VeriteeError(ErrorCode.KMS_EPOCH_EXISTS, `epoch ${record.epoch} is not after ${last}`);
        await consumeNonce(appId, request.nonces);
        const result = await appraise(
          request.evidence,
          policy.release,
          createBinding(record, request.nonces),
        );
        await openShare(record, request.share, ErrorCode.KMS_SHARE_INVALID);
        if (
          !(await store.addEpoch(appId, record.epoch, JSON.stringify(record), JSON.stringify(request.share)))
        ) {
          throw new VeriteeError(ErrorCode.KMS_EPOCH_EXISTS, `epoch ${record.epoch} already exists`);
        }
        const auditSeq = await audit({
          type: 'epoch.create',
          app: appId,
          epoch: record.epoch,
          outcome: 'ok',
          code: null,
          detail: {
            kind: record.kind,
            policyVersion: record.policyVersion,
            threshold: record.threshold,
            kcv: record.kcv,
            platform: result.platform,
            ...measurementSummary(result),
          },
        });
        return Response.json({ node: nodeId, epoch: record.epoch, auditSeq });
      },
      () => epoch,
    );
  });

  function checkEpochAgainstPolicy(record: EpochRecord, version: number, change: PolicyChange): void {
    if (record.policyVersion !== version) {
      throw new VeriteeError(
        ErrorCode.KMS_POLICY_VERSION,
        `epoch names policy version ${record.policyVersion}, current is ${version}`,
      );
    }
    const ids = change.nodes.map((node) => node.id);
    if (record.threshold !== change.threshold || record.nodes.join(',') !== ids.join(',')) {
      throw new VeriteeError(
        ErrorCode.KMS_POLICY_VERSION,
        'epoch node set or threshold differs from the policy',
      );
    }
  }

  /** Opens this node's sealed share and checks it against the commitment; failures are `code`. */
  async function openShare(
    record: EpochRecord,
    share: { index: number; enc: string; ct: string },
    code: ErrorCode,
  ) {
    let plain: Uint8Array;
    try {
      plain = await (await recipient).open(
        shareInfo('to-node', record.appId, record.epoch, share.index),
        { enc: fromB64u(share.enc, 'enc'), ct: fromB64u(share.ct, 'ct') },
        code,
        'share',
      );
    } catch (error) {
      throw error instanceof VeriteeError && error.code === code
        ? error
        : new VeriteeError(code, 'share cannot be opened');
    }
    const commitment = shareCommitment(
      fromB64u(record.salt, 'salt'),
      record.appId,
      record.epoch,
      share.index,
      plain,
    );
    if (b64u(commitment) !== record.commitments[share.index - 1]) {
      plain.fill(0);
      throw new VeriteeError(code, 'share does not match its commitment');
    }
    return plain;
  }

  app.post('/v1/apps/:app/recover', async (c) => {
    let epoch: number | null = null;
    return guarded(
      c,
      'share.refused',
      async (appId) => {
        const request = parseRecoverRequest(await readJson(c.req.raw, limit));
        epoch = request.epoch;
        const policy = await currentPolicy(appId);
        const row = await store.epoch(appId, request.epoch);
        if (row === undefined)
          throw new VeriteeError(ErrorCode.KMS_EPOCH_UNKNOWN, `epoch ${request.epoch} unknown`);
        if (row.retired || row.share === null)
          throw new VeriteeError(ErrorCode.KMS_EPOCH_RETIRED, `epoch ${request.epoch} is retired`);
        await consumeNonce(appId, request.nonces);
        const binding = recoverBinding(appId, request.epoch, request.ephemeralPublicKey, request.nonces);
        const result = await appraise(request.evidence, policy.release, binding);
        const record = storedEpoch(row.record);
        let stored: { index: number; enc: string; ct: string };
        try {
          stored = JSON.parse(row.share) as typeof stored;
          if (typeof stored !== 'object' || stored === null || typeof stored.index !== 'number')
            throw new Error('shape');
        } catch {
          throw new VeriteeError(ErrorCode.KMS_SHARE_CORRUPT, 'stored share is unreadable');
        }
        const plain = await openShare(record, stored, ErrorCode.KMS_SHARE_CORRUPT);
        const sealed = await hpkeSeal(
          fromB64u(request.ephemeralPublicKey, 'ephemeralPublicKey'),
          shareInfo('to-enclave', appId, request.epoch, stored.index),
          plain,
        );
        plain.fill(0);
        const auditSeq = await audit({
          type: 'share.release',
          app: appId,
          epoch: request.epoch,
          outcome: 'ok',
          code: null,
          detail: {
            policyVersion: policy.version,
            ephemeralKey: request.ephemeralPublicKey,
            platform: result.platform,
            ...measurementSummary(result),
          },
        });
        return Response.json({
          node: nodeId,
          epoch: request.epoch,
          share: { index: stored.index, enc: b64u(sealed.enc), ct: b64u(sealed.ct) },
          auditSeq,
        });
      },
      () => epoch,
    );
  });

  app.post('/v1/apps/:app/epochs/:epoch/retire', (c) =>
    guarded(c, 'epoch.refused', async (appId) => {
      const { order, signature } = parseRetire(await readJson(c.req.raw, limit));
      if (order.appId !== appId || String(order.epoch) !== c.req.param('epoch')) {
        throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'order differs from the URL');
      }
      const policy = await currentPolicy(appId);
      if (!retireSignedBy(order, signature, policy.change.owner)) {
        throw new VeriteeError(ErrorCode.KMS_OWNER_SIGNATURE, 'retirement is not signed by the app owner');
      }
      const epochs = await store.epochs(appId);
      const live = epochs.filter((row) => !row.retired);
      if (!epochs.some((row) => row.epoch === order.epoch))
        throw new VeriteeError(ErrorCode.KMS_EPOCH_UNKNOWN, `epoch ${order.epoch} unknown`);
      if (live.at(-1)?.epoch === order.epoch) {
        throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'the newest epoch cannot be retired');
      }
      await store.retireEpoch(appId, order.epoch);
      const auditSeq = await audit({
        type: 'epoch.retire',
        app: appId,
        epoch: order.epoch,
        outcome: 'ok',
        code: null,
        detail: {},
      });
      return Response.json({ node: nodeId, epoch: order.epoch, retired: true, auditSeq });
    }),
  );

  async function countersign(version: Countersigned['version']): Promise<Countersigned> {
    return {
      version,
      node: nodeId,
      signature: b64u(await signer('sealed countersign', sealedVersionBytes(version))),
    };
  }

  app.get('/v1/apps/:app/sealed/:name', (c) =>
    guarded(c, 'sealed.refused', async (appId) => {
      const name = c.req.param('name');
      if (!SEALED_NAME.test(name))
        throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'bad sealed-state name');
      const record = await store.sealed(appId, name);
      if (record === undefined) throw new VeriteeError(ErrorCode.NOT_FOUND, `no sealed state "${name}"`);
      return new Response(record, { headers: { 'content-type': 'application/json' } });
    }),
  );

  app.post('/v1/apps/:app/sealed/:name', (c) =>
    guarded(c, 'sealed.refused', async (appId) => {
      const { version, signature } = parseSealedBump(await readJson(c.req.raw, limit));
      if (version.appId !== appId || version.name !== c.req.param('name')) {
        throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'version differs from the URL');
      }
      const row = await store.epoch(appId, version.epoch);
      if (row === undefined)
        throw new VeriteeError(ErrorCode.KMS_EPOCH_UNKNOWN, `epoch ${version.epoch} unknown`);
      if (row.retired)
        throw new VeriteeError(ErrorCode.KMS_EPOCH_RETIRED, `epoch ${version.epoch} is retired`);
      const record = storedEpoch(row.record);
      if (!verifyFor(fromB64u(record.kcv, 'kcv'), 'sealed version', sealedVersionBytes(version), signature)) {
        throw new VeriteeError(
          ErrorCode.KMS_OWNER_SIGNATURE,
          'sealed-state version is not signed by the app key',
        );
      }
      const countersigned = JSON.stringify(await countersign(version));
      const written = await store.updateSealed(appId, version.name, (current) => {
        const currentVersion =
          current === undefined ? 0 : (JSON.parse(current) as Countersigned).version.version;
        if (version.version !== currentVersion + 1) {
          throw new VeriteeError(
            ErrorCode.KMS_SEALED_VERSION,
            `expected version ${currentVersion + 1}, got ${version.version}`,
          );
        }
        return countersigned;
      });
      await audit({
        type: 'sealed.countersign',
        app: appId,
        epoch: version.epoch,
        outcome: 'ok',
        code: null,
        detail: { name: version.name, version: version.version, digest: version.digest },
      });
      return new Response(written, { headers: { 'content-type': 'application/json' } });
    }),
  );

  app.notFound((c) =>
    errorResponse(new VeriteeError(ErrorCode.NOT_FOUND, `no route for ${c.req.method} ${c.req.path}`)),
  );
  app.onError(() =>
    Response.json({ error: { code: 'INTERNAL', message: 'internal error' } }, { status: 500 }),
  );

  return {
    app,
    nodeId,
    /** Writes the start entry (the node's keys and version), once per process start. */
    started: () =>
      audit({
        type: 'node.start',
        app: null,
        epoch: null,
        outcome: 'ok',
        code: null,
        detail: { version: VERSION },
      }),
  };
}
