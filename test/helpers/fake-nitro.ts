/** Builds Nitro attestation documents signed by a fake chain, to reach checks that come after parsing. */
import { COSE_ALG, sigStructure } from '../../src/platforms/nitro/cose.js';
import { EncMap, type Encodable, encode, Tag } from './cbor-encode.js';
import { type NamedFakeCert, signEs384 } from './fake-chain.js';

export interface FakeDocOptions {
  readonly leaf: NamedFakeCert;
  /** Root first, as the NSM emits it. */
  readonly cabundle: readonly NamedFakeCert[];
  readonly alg?: number;
  readonly timestamp?: number;
  readonly pcrs?: [number, Uint8Array][];
  /** Extra or replacement payload entries. */
  readonly extra?: [Encodable, Encodable][];
  readonly omit?: readonly string[];
  readonly tagged?: boolean;
  /** Replace the signature after signing. */
  readonly signature?: (signature: Uint8Array) => Uint8Array;
}

export function defaultPcrs(): [number, Uint8Array][] {
  return Array.from(
    { length: 16 },
    (_, i) => [i, new Uint8Array(48).fill(i < 3 ? i + 0x10 : 0)] as [number, Uint8Array],
  );
}

export function payloadEntries(options: FakeDocOptions): [Encodable, Encodable][] {
  const entries: [Encodable, Encodable][] = [
    ['module_id', 'i-test-enc0000000000000000'],
    ['digest', 'SHA384'],
    ['timestamp', options.timestamp ?? Date.parse('2030-01-01T00:00:00Z')],
    ['pcrs', new EncMap(options.pcrs ?? defaultPcrs())],
    ['certificate', options.leaf.der],
    ['cabundle', options.cabundle.map((cert) => cert.der)],
    ['public_key', null],
    ['user_data', new Uint8Array([1, 2, 3])],
    ['nonce', new Uint8Array(32).fill(7)],
  ];
  const omitted = entries.filter(([key]) => !(options.omit ?? []).includes(key as string));
  for (const [key, value] of options.extra ?? []) {
    const index = omitted.findIndex(([k]) => k === key);
    if (index >= 0) omitted[index] = [key, value];
    else omitted.push([key, value]);
  }
  return omitted;
}

export async function fakeNitroDocument(options: FakeDocOptions): Promise<Uint8Array> {
  const protectedBytes = encode(new EncMap([[1, options.alg ?? COSE_ALG.ES384]]));
  const payload = encode(new EncMap(payloadEntries(options)));
  const toSign = sigStructure({ protectedBytes, payload });
  let signature = await signEs384(options.leaf.keys.privateKey, toSign);
  if (options.signature) signature = options.signature(signature);
  const cose: Encodable = [protectedBytes, new EncMap([]), payload, signature];
  return encode(options.tagged ? new Tag(18, cose) : cose);
}
