import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, VeriteeError } from '../src/errors.js';
import { parseCertificate } from '../src/pki/certificate.js';
import { makeTrustAnchor, type TrustAnchor } from '../src/pki/chain.js';
import { parseNitroEvidence, verifyNitroEvidence } from '../src/platforms/nitro/index.js';
import { EncMap, encode } from './helpers/cbor-encode.js';
import { fakeCert, fakeChain, type NamedFakeCert } from './helpers/fake-chain.js';
import { defaultPcrs, type FakeDocOptions, fakeNitroDocument } from './helpers/fake-nitro.js';
import { genuineNitroVectors } from './helpers/vectors.js';

const AT = new Date('2030-01-01T00:00:10Z');
let chain: { root: NamedFakeCert; intermediate: NamedFakeCert; leaf: NamedFakeCert };
let anchor: TrustAnchor;

beforeAll(async () => {
  chain = await fakeChain();
  anchor = await makeTrustAnchor('test root', parseCertificate(chain.root.der));
});

async function build(overrides: Partial<FakeDocOptions> = {}): Promise<Uint8Array> {
  return fakeNitroDocument({ leaf: chain.leaf, cabundle: [chain.root, chain.intermediate], ...overrides });
}

async function outcome(bytes: Uint8Array, at = AT): Promise<VeriteeError | 'ok'> {
  try {
    await verifyNitroEvidence(parseNitroEvidence(bytes), { at, anchors: [anchor] });
    return 'ok';
  } catch (error) {
    if (!(error instanceof VeriteeError)) throw error;
    return error;
  }
}

async function expectCode(bytes: Uint8Array, code: string, message?: RegExp): Promise<void> {
  const result = await outcome(bytes);
  expect(result).toBeInstanceOf(VeriteeError);
  expect((result as VeriteeError).code).toBe(code);
  if (message) expect((result as VeriteeError).message).toMatch(message);
}

describe('Nitro: a well-formed fake document verifies under its own root', () => {
  it('baseline', async () => {
    expect(await outcome(await build())).toBe('ok');
    expect(await outcome(await build({ tagged: true }))).toBe('ok');
  });
});

describe('Nitro: the attestation document is parsed strictly', () => {
  const cases: [string, Partial<FakeDocOptions>, string, RegExp?][] = [
    ['unknown field', { extra: [['surprise', 1]] }, ErrorCode.PARSE_UNKNOWN_FIELD, /surprise/],
    ['integer key', { extra: [[7, 1]] }, ErrorCode.PARSE_UNKNOWN_FIELD],
    ['missing module_id', { omit: ['module_id'] }, ErrorCode.PARSE_MISSING_FIELD, /module_id/],
    ['missing pcrs', { omit: ['pcrs'] }, ErrorCode.PARSE_MISSING_FIELD, /pcrs/],
    ['missing cabundle', { omit: ['cabundle'] }, ErrorCode.PARSE_MISSING_FIELD],
    ['empty module_id', { extra: [['module_id', '']] }, ErrorCode.PARSE_INVALID_VALUE],
    ['digest SHA256', { extra: [['digest', 'SHA256']] }, ErrorCode.PARSE_INVALID_VALUE, /SHA384/],
    ['digest as bytes', { extra: [['digest', new Uint8Array(3)]] }, ErrorCode.PARSE_UNEXPECTED_TYPE],
    ['timestamp zero', { timestamp: 0 }, ErrorCode.PARSE_INVALID_VALUE],
    ['timestamp negative', { extra: [['timestamp', -5]] }, ErrorCode.PARSE_UNEXPECTED_TYPE],
    ['PCR of 20 bytes', { pcrs: [[0, new Uint8Array(20)]] }, ErrorCode.PARSE_INVALID_VALUE, /32, 48 or 64/],
    ['PCR index 32', { pcrs: [[32, new Uint8Array(48)]] }, ErrorCode.PARSE_INVALID_VALUE, /0\.\.31/],
    ['PCR index negative', { pcrs: [[-1, new Uint8Array(48)]] }, ErrorCode.PARSE_INVALID_VALUE],
    ['no PCRs', { pcrs: [] }, ErrorCode.PARSE_INVALID_VALUE],
    [
      '33 PCRs',
      { pcrs: Array.from({ length: 33 }, (_, i) => [i, new Uint8Array(32)] as [number, Uint8Array]) },
      ErrorCode.PARSE_INVALID_VALUE,
    ],
    [
      'user_data of 513 bytes',
      { extra: [['user_data', new Uint8Array(513)]] },
      ErrorCode.PARSE_INVALID_VALUE,
      /0\.\.512/,
    ],
    ['nonce of 513 bytes', { extra: [['nonce', new Uint8Array(513)]] }, ErrorCode.PARSE_INVALID_VALUE],
    [
      'empty public_key',
      { extra: [['public_key', new Uint8Array(0)]] },
      ErrorCode.PARSE_INVALID_VALUE,
      /1\.\.1024/,
    ],
    [
      'public_key of 1025 bytes',
      { extra: [['public_key', new Uint8Array(1025)]] },
      ErrorCode.PARSE_INVALID_VALUE,
    ],
    ['empty cabundle', { extra: [['cabundle', []]] }, ErrorCode.PARSE_INVALID_VALUE],
    ['user_data as text', { extra: [['user_data', 'hello']] }, ErrorCode.PARSE_UNEXPECTED_TYPE],
  ];
  for (const [name, overrides, code, message] of cases) {
    it(`rejects ${name}`, async () => {
      await expectCode(await build(overrides), code, message);
    });
  }

  it('accepts 64-byte PCRs and absent optional fields', async () => {
    const bytes = await build({
      pcrs: [[0, new Uint8Array(64).fill(1)]],
      omit: ['public_key', 'user_data', 'nonce'],
    });
    expect(await outcome(bytes)).toBe('ok');
  });
});

describe('Nitro: CBOR strictness reaches the document', () => {
  it('rejects a duplicate key in the payload', async () => {
    const doc = parseNitroEvidence(await build());
    const entries: [string, Uint8Array | string][] = [
      ['module_id', 'a'],
      ['module_id', 'b'],
    ];
    const bytes = encode([
      doc.cose.protectedBytes,
      new EncMap([]),
      encode(new EncMap(entries)),
      doc.cose.signature,
    ]);
    expect(() => parseNitroEvidence(bytes)).toThrow(VeriteeError);
    try {
      parseNitroEvidence(bytes);
    } catch (error) {
      expect((error as VeriteeError).code).toBe(ErrorCode.PARSE_DUPLICATE_KEY);
    }
  });

  it('rejects trailing bytes after the COSE array', async () => {
    const bytes = await build();
    expect(() => parseNitroEvidence(new Uint8Array([...bytes, 0]))).toThrow(/bytes after the CBOR item/);
  });

  it('rejects a COSE array of 3 elements and a detached payload', async () => {
    const doc = parseNitroEvidence(await build());
    expect(() =>
      parseNitroEvidence(encode([doc.cose.protectedBytes, new EncMap([]), doc.cose.payload])),
    ).toThrow(/4 elements/);
    expect(() =>
      parseNitroEvidence(encode([doc.cose.protectedBytes, new EncMap([]), null, doc.cose.signature])),
    ).toThrow(/detached/);
  });

  it('rejects alg in the unprotected header and an empty protected header', async () => {
    const doc = parseNitroEvidence(await build());
    const sig = doc.cose.signature;
    expect(() =>
      parseNitroEvidence(encode([doc.cose.protectedBytes, new EncMap([[1, -35]]), doc.cose.payload, sig])),
    ).toThrow(/unprotected/);
    expect(() =>
      parseNitroEvidence(encode([new Uint8Array(0), new EncMap([]), doc.cose.payload, sig])),
    ).toThrow(/no algorithm/);
  });
});

describe('Nitro: signature and key checks', () => {
  it('rejects ES256 in the protected header', async () => {
    await expectCode(await build({ alg: -7 }), ErrorCode.SIG_ALGORITHM_UNSUPPORTED, /ES384/);
  });
  it('rejects a truncated signature and a flipped one', async () => {
    await expectCode(await build({ signature: (s) => s.subarray(0, 95) }), ErrorCode.SIG_INVALID, /96 bytes/);
    await expectCode(
      await build({ signature: (s) => s.map((b, i) => (i === 10 ? b ^ 1 : b)) }),
      ErrorCode.SIG_INVALID,
    );
  });
  it('rejects a P-256 signing certificate', async () => {
    const leaf = await fakeCert({ name: 'p256 leaf', issuer: chain.intermediate, curve: 'P-256' });
    const bytes = await fakeNitroDocument({ leaf, cabundle: [chain.root, chain.intermediate] });
    // The fake signer signs with its own key; the curve check fires before the signature check.
    await expectCode(bytes, ErrorCode.KEY_INVALID, /P-384/);
  });
});

describe('Nitro: chain checks', () => {
  it('rejects a CA certificate as the signing certificate', async () => {
    const leaf = await fakeCert({ name: 'ca leaf', issuer: chain.intermediate, ca: true });
    await expectCode(
      await fakeNitroDocument({ leaf, cabundle: [chain.root, chain.intermediate] }),
      ErrorCode.CERT_KEY_USAGE,
    );
  });
  it('rejects an intermediate that is not a CA', async () => {
    const notCa = await fakeCert({ name: 'not a ca', issuer: chain.root, ca: false });
    const leaf = await fakeCert({ name: 'leaf', issuer: notCa });
    await expectCode(await fakeNitroDocument({ leaf, cabundle: [chain.root, notCa] }), ErrorCode.CERT_NOT_CA);
  });
  it('rejects a CA without keyCertSign', async () => {
    const noSign = await fakeCert({ name: 'no keyCertSign', issuer: chain.root, ca: true, keyUsage: 1 << 7 });
    const leaf = await fakeCert({ name: 'leaf', issuer: noSign });
    await expectCode(
      await fakeNitroDocument({ leaf, cabundle: [chain.root, noSign] }),
      ErrorCode.CERT_KEY_USAGE,
    );
  });
  it('enforces pathLen', async () => {
    const limited = await fakeCert({ name: 'pathlen 0', issuer: chain.root, ca: true, pathLength: 0 });
    const below = await fakeCert({ name: 'below', issuer: limited, ca: true });
    const leaf = await fakeCert({ name: 'leaf', issuer: below });
    await expectCode(
      await fakeNitroDocument({ leaf, cabundle: [chain.root, limited, below] }),
      ErrorCode.CHAIN_TOO_LONG,
      /pathLen 0/,
    );
  });
  it('rejects a cabundle in the wrong order and a missing intermediate', async () => {
    await expectCode(
      await build({ cabundle: [chain.intermediate, chain.root] }),
      ErrorCode.CHAIN_UNTRUSTED_ROOT,
    );
    await expectCode(
      await build({ cabundle: [chain.root] }),
      ErrorCode.CHAIN_BROKEN,
      /issuer of "CN=test leaf"/,
    );
  });
  it('rejects a look-alike intermediate (same name, other key)', async () => {
    const impostor = await fakeCert({ name: 'test intermediate', issuer: chain.root, ca: true });
    await expectCode(await build({ cabundle: [chain.root, impostor] }), ErrorCode.SIG_INVALID, /test leaf/);
  });
  it('checks every certificate window, not just the leaf', async () => {
    const shortLived = await fakeCert({
      name: 'short',
      issuer: chain.root,
      ca: true,
      notAfter: new Date('2029-06-01T00:00:00Z'),
    });
    const leaf = await fakeCert({ name: 'leaf', issuer: shortLived });
    const error = await outcome(await fakeNitroDocument({ leaf, cabundle: [chain.root, shortLived] }));
    expect((error as VeriteeError).code).toBe(ErrorCode.CERT_EXPIRED);
    expect((error as VeriteeError).message).toContain('CN=short');
  });
});

describe('Nitro: swapped material between genuine documents', () => {
  it('rejects a document whose signing certificate comes from another document', async () => {
    const [a, b] = genuineNitroVectors();
    const docA = parseNitroEvidence(a!.bytes);
    const docB = parseNitroEvidence(b!.bytes);
    const swapped = {
      cose: docA.cose,
      document: {
        ...docA.document,
        certificate: docB.document.certificate,
        cabundle: docB.document.cabundle,
      },
    };
    const at = new Date(b!.expected.verification_time.unix_ms);
    await expect(verifyNitroEvidence(swapped, { at })).rejects.toMatchObject({ code: ErrorCode.SIG_INVALID });
  });

  it('rejects a cabundle from another document', async () => {
    const vectors = genuineNitroVectors();
    const a = vectors.find((v) => v.id === 'marlin-aws-2024-12-13')!;
    const b = vectors.find((v) => v.id === 'marlin-aws-pcr16-2025-04-29')!;
    const docA = parseNitroEvidence(a.bytes);
    const docB = parseNitroEvidence(b.bytes);
    const swapped = { cose: docA.cose, document: { ...docA.document, cabundle: docB.document.cabundle } };
    await expect(
      verifyNitroEvidence(swapped, { at: new Date(a.expected.verification_time.unix_ms) }),
    ).rejects.toBeInstanceOf(VeriteeError);
  });
});

describe('Nitro: debug detection', () => {
  it('flags PCR0..2 all zero as debug, and only then', async () => {
    const zero: [number, Uint8Array][] = [0, 1, 2].map((i) => [i, new Uint8Array(48)]);
    const debugDoc = parseNitroEvidence(await build({ pcrs: zero }));
    const verified = await verifyNitroEvidence(debugDoc, { at: AT, anchors: [anchor] });
    expect(verified.claims.debug).toBe(true);
    const partly = defaultPcrs().map(
      ([i, v]) => [i, i === 0 ? new Uint8Array(48) : v] as [number, Uint8Array],
    );
    const notDebug = await verifyNitroEvidence(parseNitroEvidence(await build({ pcrs: partly })), {
      at: AT,
      anchors: [anchor],
    });
    expect(notDebug.claims.debug).toBe(false);
  });
});

describe('Nitro: the unprotected header', () => {
  it('refuses unsigned header fields', async () => {
    const doc = parseNitroEvidence(await build());
    const bytes = encode([
      doc.cose.protectedBytes,
      new EncMap([[4, new Uint8Array([1])]]),
      doc.cose.payload,
      doc.cose.signature,
    ]);
    expect(() => parseNitroEvidence(bytes)).toThrow(
      expect.objectContaining({ code: ErrorCode.PARSE_UNKNOWN_FIELD }),
    );
  });
});
