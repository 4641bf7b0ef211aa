/**
 * Simulated Nitro attestation documents: the real format (COSE_Sign1, ES384, the AWS document fields),
 * signed by a short-lived leaf issued by the installation's simulator root. `verify` accepts them only
 * when the root is passed as a simulator root, and then reports platform `sim`.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { encodeHead } from '../../cbor.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { SIMULATOR_ORGANIZATION } from '../../pki/chain.js';
import type { SimulatorRoot } from './store.js';
import { issueCertificate } from './x509.js';

/** Like the NSM's: a signing certificate lives three hours. */
const LEAF_LIFETIME_MS = 3 * 3600 * 1000;
const LEAF_RENEW_MARGIN_MS = 10 * 60 * 1000;

type Value = number | string | null | Uint8Array | Value[] | Map<Value, Value>;

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Preferred-encoding CBOR for the few types a Nitro document uses. */
function cbor(value: Value): Uint8Array {
  if (value === null) return Uint8Array.of(0xf6);
  if (typeof value === 'number') return value >= 0 ? encodeHead(0, value) : encodeHead(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    return concat([encodeHead(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return concat([encodeHead(2, value.length), value]);
  if (value instanceof Map) {
    return concat([encodeHead(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
  }
  return concat([encodeHead(4, value.length), ...value.map(cbor)]);
}

export interface SimulatedMeasurements {
  /** PCR index → 48 bytes. Missing PCRs 0–15 are zero (PCR 0–2 all zero would mean debug). */
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
}

/** SHA-384 of `text`, for deriving simulated PCRs from labels and files. */
export function sha384(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha384').update(data).digest());
}

interface Leaf {
  readonly der: Uint8Array;
  readonly key: KeyObject;
  readonly notAfter: number;
}

export class SimulatedNitro {
  readonly #root: SimulatorRoot;
  readonly #moduleId: string;
  readonly #pcrs: Map<number, Uint8Array>;
  #leaf: Leaf | undefined;

  constructor(root: SimulatorRoot, measurements: SimulatedMeasurements) {
    this.#root = root;
    this.#moduleId = `i-veritee-sim-enc${randomBytes(8).toString('hex')}`;
    this.#pcrs = new Map();
    for (let index = 0; index < 16; index++) this.#pcrs.set(index, new Uint8Array(48));
    for (const [index, value] of measurements.pcrs) {
      if (value.length !== 48 || index < 0 || index > 15) {
        throw new VeriteeError(
          ErrorCode.ARGUMENT_INVALID,
          `simulated PCR${index} must be 48 bytes, index 0–15`,
        );
      }
      this.#pcrs.set(index, value.slice());
    }
  }

  #currentLeaf(now: number): Leaf {
    if (this.#leaf !== undefined && now < this.#leaf.notAfter - LEAF_RENEW_MARGIN_MS) return this.#leaf;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const notAfter = now + LEAF_LIFETIME_MS;
    const der = issueCertificate({
      subject: { commonName: this.#moduleId, organization: SIMULATOR_ORGANIZATION },
      issuer: { commonName: this.#root.commonName, organization: SIMULATOR_ORGANIZATION },
      publicKey,
      signingKey: this.#root.privateKey,
      serial: randomBytes(16),
      notBefore: new Date(now - 60_000),
      notAfter: new Date(notAfter),
      ca: false,
    });
    this.#leaf = { der, key: privateKey, notAfter };
    return this.#leaf;
  }

  /** A COSE_Sign1 attestation document with `userData` (the 64-byte binding) and the given extras. */
  document(
    userData: Uint8Array,
    options: { publicKey?: Uint8Array; nonce?: Uint8Array; now?: number } = {},
  ): Uint8Array {
    const now = options.now ?? Date.now();
    const leaf = this.#currentLeaf(now);
    const payload = cbor(
      new Map<Value, Value>([
        ['module_id', this.#moduleId],
        ['digest', 'SHA384'],
        ['timestamp', now],
        ['pcrs', new Map<Value, Value>([...this.#pcrs].map(([index, value]) => [index, value]))],
        ['certificate', leaf.der],
        ['cabundle', [this.#root.certificateDer]],
        ['public_key', options.publicKey ?? null],
        ['user_data', userData],
        ['nonce', options.nonce ?? null],
      ]),
    );
    const protectedHeader = cbor(new Map<Value, Value>([[1, -35]]));
    // RFC 9052 §4.4 Sig_structure: ["Signature1", protected, external_aad, payload].
    const toSign = cbor(['Signature1', protectedHeader, new Uint8Array(0), payload]);
    const signature = new Uint8Array(sign('sha384', toSign, { key: leaf.key, dsaEncoding: 'ieee-p1363' }));
    return concat([Uint8Array.of(0xd2), cbor([protectedHeader, new Map(), payload, signature])]);
  }
}
