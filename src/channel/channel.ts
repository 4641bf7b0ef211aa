/**
 * The attested channel: Noise_XX_25519_ChaChaPoly_BLAKE2b whose responder (the TEE) proves, with
 * evidence bound to its static key and to this handshake, what code holds the key. The client verifies
 * that evidence and its policy after message 2, before it sends message 3 or any application data.
 * Optional client evidence (message 3) gives mutual attestation.
 *
 *   → e                       ClientHello (cleartext)
 *   ← e, ee, s, es            ServerHello: evidence, report data = SHA-512(label ‖ 0 ‖ s ‖ h₁)
 *   → s, se                   ClientFinish: optional client evidence bound to (its s, h₂)
 *
 * h₁/h₂ are the handshake hashes after messages 1/2, so evidence is fresh per connection and cannot be
 * replayed into another handshake. Browser-safe; the link is injected (`link.ts`, `runtime/tcp.ts`).
 */
import { backend } from '#crypto';
import { utf8Encode } from '../bytes.js';
import type { X25519KeyPair } from '../crypto/types.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { TrustAnchor } from '../pki/chain.js';
import type { Policy } from '../policy/types.js';
import type { AttestationResult } from '../result.js';
import { verify } from '../verify.js';
import { bindingReportData, checkBinding } from './binding.js';
import { type FrameLink, joinParts } from './link.js';
import {
  decodeClientFinish,
  decodeClientHello,
  decodeServerHello,
  encodeClientFinish,
  encodeClientHello,
  encodeServerHello,
} from './messages.js';
import { HandshakeState } from './noise.js';
import { type FrameParts, RecordLayer, type RecordLayerOptions } from './records.js';
import type { EvidenceSource } from './types.js';

export const CHANNEL_PROTOCOL = 'Noise_XX_25519_ChaChaPoly_BLAKE2b';
/** Mixed into the handshake hash: both sides must agree they speak this protocol. */
export const CHANNEL_PROLOGUE = utf8Encode('veritee-channel/1');
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;

export interface ChannelOptions extends RecordLayerOptions {
  /** Abort a handshake that takes longer than this. Default 30 s (real TEEs can be slow to attest). */
  readonly handshakeTimeoutMs?: number;
}

/** How one side checks the other's evidence. */
export interface EvidenceVerification {
  /** Appraisal policy. Default: the default policy (real hardware only, no debug). */
  readonly policy?: Policy | undefined;
  /** Verification time. Default: now, at the moment the evidence arrives. */
  readonly at?: Date | undefined;
  readonly anchors?: readonly TrustAnchor[] | undefined;
  /** Simulator roots to trust (their evidence verifies as `sim`; the policy must also list `sim`). */
  readonly simulatorRoots?: readonly TrustAnchor[] | undefined;
  readonly collateral?: unknown;
  /**
   * Replaces `verify` (e.g. a remote verifier). Its result must not be contraindicated, and the binding
   * to the channel is always checked on it by the channel itself.
   */
  readonly verifier?: ((evidence: Uint8Array) => Promise<AttestationResult>) | undefined;
}

export interface ClientOptions extends ChannelOptions, EvidenceVerification {
  /** The client's static key. Default: a fresh key per connection. */
  readonly staticKeyPair?: X25519KeyPair;
  /** Attest the client too (sent only if the server asks). */
  readonly clientEvidence?: EvidenceSource;
}

export interface ServerOptions extends ChannelOptions {
  /** The TEE's channel key; its public half is bound into every evidence sent. */
  readonly staticKeyPair: X25519KeyPair;
  readonly evidence: EvidenceSource;
  /** Require and verify client evidence (mutual attestation). */
  readonly clientVerification?: EvidenceVerification;
}

function withTimeout<T>(promise: Promise<T>, ms: number, link: FrameLink): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      link.close();
      reject(new VeriteeError(ErrorCode.CHANNEL_TIMEOUT, `handshake did not complete within ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function receiveHandshakeFrame(link: FrameLink, what: string): Promise<Uint8Array> {
  const frame = await link.receive();
  if (frame === undefined) {
    throw new VeriteeError(ErrorCode.CHANNEL_TRUNCATED, `peer closed the connection before ${what}`);
  }
  return frame;
}

/** Verifies peer evidence and its binding; throws CHANNEL_EVIDENCE_REJECTED / CHANNEL_BINDING_MISMATCH. */
export async function verifyPeerEvidence(
  evidence: Uint8Array,
  expectedReportData: Uint8Array,
  options: EvidenceVerification,
  who: 'server' | 'client',
): Promise<AttestationResult> {
  let result: AttestationResult;
  try {
    result = options.verifier
      ? await options.verifier(evidence)
      : await verify(evidence, {
          at: options.at ?? new Date(),
          policy: options.policy,
          anchors: options.anchors,
          simulatorRoots: options.simulatorRoots,
          collateral: options.collateral,
        });
  } catch (error) {
    throw new VeriteeError(ErrorCode.CHANNEL_EVIDENCE_REJECTED, `${who} evidence could not be verified`, {
      details: error instanceof Error ? error.message.slice(0, 200) : undefined,
    });
  }
  if (result.verdict === 'contraindicated') {
    throw new VeriteeError(ErrorCode.CHANNEL_EVIDENCE_REJECTED, `${who} evidence rejected`, {
      details: result.errors[0]?.message ?? result.checks.find((check) => !check.ok)?.detail,
      cause: result,
    });
  }
  checkBinding(result, expectedReportData, who);
  return result;
}

/** An established channel: send and receive whole messages; every record authenticated. */
export class AttestedChannel {
  readonly #link: FrameLink;
  readonly #records: RecordLayer;
  /** The peer's verified evidence (the server's, on a client; the client's, when mutual). */
  readonly peerEvidence: AttestationResult | undefined;
  /** Noise handshake hash: a unique channel binding value (§11.2), equal on both ends. */
  readonly handshakeHash: Uint8Array;
  readonly remoteStaticKey: Uint8Array;
  #receiving = false;

  constructor(
    link: FrameLink,
    records: RecordLayer,
    details: {
      peerEvidence: AttestationResult | undefined;
      handshakeHash: Uint8Array;
      remoteStaticKey: Uint8Array;
    },
  ) {
    this.#link = link;
    this.#records = records;
    this.peerEvidence = details.peerEvidence;
    this.handshakeHash = details.handshakeHash;
    this.remoteStaticKey = details.remoteStaticKey;
  }

  get closed(): boolean {
    return this.#records.sendClosed || this.#records.failure !== undefined;
  }

  /** Sends one message (bytes, or text as UTF-8), fragmented into records as needed. */
  send(message: Uint8Array | string): void {
    const bytes = typeof message === 'string' ? utf8Encode(message) : message;
    for (const frame of this.#records.sealMessage(bytes)) this.#sendFrame(frame);
  }

  #sendFrame(parts: FrameParts): void {
    if (this.#link.sendParts !== undefined) this.#link.sendParts(parts);
    else this.#link.send(joinParts(parts));
  }

  /** Rotates the sending key now (Noise Rekey); the peer follows on the REKEY record. */
  rekey(): void {
    this.#sendFrame(this.#records.sealRekey());
  }

  /**
   * The next whole message; undefined after the peer's orderly close. Throws a typed error on
   * tampering, replay, reordering, truncation (the link ends without CLOSE) or oversize messages, and
   * the channel is then unusable.
   */
  async receive(): Promise<Uint8Array | undefined> {
    const parts = await this.receiveParts();
    return parts === undefined ? undefined : joinParts(parts);
  }

  /**
   * `receive`, giving the message as the pieces it was decrypted into (their concatenation is it), so a
   * consumer that streams it on (to a file, a socket) never joins a large message in memory. Every piece
   * is authenticated before any is returned.
   */
  async receiveParts(): Promise<readonly Uint8Array[] | undefined> {
    if (this.#receiving) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'receive() called concurrently');
    if (this.#records.receiveClosed) return undefined;
    this.#receiving = true;
    try {
      for (;;) {
        const frame = await this.#nextFrame();
        const record = this.#records.open(frame);
        if (record.kind === 'message') return record.parts;
        if (record.kind === 'close') return undefined;
      }
    } catch (error) {
      this.#link.close();
      throw error;
    } finally {
      this.#receiving = false;
    }
  }

  async #nextFrame(): Promise<Uint8Array | FrameParts> {
    let frame: Uint8Array | FrameParts | undefined;
    try {
      frame = await (this.#link.receiveParts?.() ?? this.#link.receive());
    } catch (error) {
      const typed =
        error instanceof VeriteeError ? error : new VeriteeError(ErrorCode.CHANNEL_TRUNCATED, 'link failed');
      this.#records.abort(typed);
      throw typed;
    }
    if (frame === undefined) {
      const error = new VeriteeError(
        ErrorCode.CHANNEL_TRUNCATED,
        'connection ended without an orderly close',
      );
      this.#records.abort(error);
      throw error;
    }
    return frame;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const message = await this.receive();
      if (message === undefined) return;
      yield message;
    }
  }

  /** Orderly close: sends CLOSE (so the peer can tell it from truncation) and ends the link. */
  close(): void {
    if (!this.closed) {
      try {
        this.#sendFrame(this.#records.sealClose());
      } catch {
        // the link is already gone: nothing more to tell the peer
      }
    }
    this.#link.close();
  }
}

/**
 * Client side: runs the handshake over `link`, verifies the server's evidence, policy and binding, and
 * only then completes the handshake. Rejects with CHANNEL_EVIDENCE_REJECTED (`cause` holds the
 * AttestationResult), CHANNEL_BINDING_MISMATCH, CHANNEL_TIMEOUT or another CHANNEL_* error; the link is
 * closed on any failure.
 */
export async function connectChannel(link: FrameLink, options: ClientOptions = {}): Promise<AttestedChannel> {
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  try {
    return await withTimeout(clientHandshake(link, options), timeoutMs, link);
  } catch (error) {
    link.close();
    throw error;
  }
}

async function clientHandshake(link: FrameLink, options: ClientOptions): Promise<AttestedChannel> {
  // Default: a fresh key per connection (connections are unlinkable), kept inside the backend.
  const staticKeyPair = options.staticKeyPair ?? backend.x25519GenerateSecret();
  const hs = new HandshakeState({
    protocol: CHANNEL_PROTOCOL,
    initiator: true,
    prologue: CHANNEL_PROLOGUE,
    staticKeyPair,
  });
  link.send(hs.writeMessage(encodeClientHello({ canAttest: options.clientEvidence !== undefined })));
  const h1 = hs.handshakeHash();
  const hello = decodeServerHello(hs.readMessage(await receiveHandshakeFrame(link, 'its evidence')));
  const serverKey = hs.remoteStaticKey!;
  const peerEvidence = await verifyPeerEvidence(
    hello.evidence,
    bindingReportData('server', serverKey, h1),
    options,
    'server',
  );
  let clientEvidence: Uint8Array | undefined;
  if (hello.requireClientEvidence) {
    if (options.clientEvidence === undefined) {
      throw new VeriteeError(ErrorCode.CHANNEL_HANDSHAKE_FAILED, 'the server requires client evidence');
    }
    const reportData = bindingReportData('client', staticKeyPair.publicKey, hs.handshakeHash());
    clientEvidence = (await options.clientEvidence.getEvidence(reportData)).evidence;
  }
  link.send(hs.writeMessage(encodeClientFinish({ evidence: clientEvidence })));
  const result = hs.result!;
  return new AttestedChannel(link, new RecordLayer(result.send, result.receive, options), {
    peerEvidence,
    handshakeHash: result.handshakeHash,
    remoteStaticKey: serverKey,
  });
}

/** Server side: answers one client's handshake over `link` with fresh evidence bound to it. */
export async function acceptChannel(link: FrameLink, options: ServerOptions): Promise<AttestedChannel> {
  const timeoutMs = options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  try {
    return await withTimeout(serverHandshake(link, options), timeoutMs, link);
  } catch (error) {
    link.close();
    throw error;
  }
}

async function serverHandshake(link: FrameLink, options: ServerOptions): Promise<AttestedChannel> {
  const hs = new HandshakeState({
    protocol: CHANNEL_PROTOCOL,
    initiator: false,
    prologue: CHANNEL_PROLOGUE,
    staticKeyPair: options.staticKeyPair,
  });
  const hello = decodeClientHello(hs.readMessage(await receiveHandshakeFrame(link, 'its hello')));
  const requireClient = options.clientVerification !== undefined;
  if (requireClient && !hello.canAttest) {
    throw new VeriteeError(
      ErrorCode.CHANNEL_HANDSHAKE_FAILED,
      'client evidence is required, client cannot attest',
    );
  }
  const reportData = bindingReportData('server', options.staticKeyPair.publicKey, hs.handshakeHash());
  const { evidence } = await options.evidence.getEvidence(reportData);
  link.send(hs.writeMessage(encodeServerHello({ requireClientEvidence: requireClient, evidence })));
  const h2 = hs.handshakeHash();
  const finish = decodeClientFinish(
    hs.readMessage(await receiveHandshakeFrame(link, 'finishing the handshake')),
  );
  const clientKey = hs.remoteStaticKey!;
  let peerEvidence: AttestationResult | undefined;
  if (options.clientVerification !== undefined) {
    if (finish.evidence === undefined) {
      throw new VeriteeError(ErrorCode.CHANNEL_EVIDENCE_REJECTED, 'client sent no evidence');
    }
    const expected = bindingReportData('client', clientKey, h2);
    peerEvidence = await verifyPeerEvidence(finish.evidence, expected, options.clientVerification, 'client');
  }
  const result = hs.result!;
  return new AttestedChannel(link, new RecordLayer(result.send, result.receive, options), {
    peerEvidence,
    handshakeHash: result.handshakeHash,
    remoteStaticKey: clientKey,
  });
}
