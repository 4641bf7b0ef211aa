/**
 * Mutations of real quotes and collateral: every change to signed data must be rejected with a
 * VeriteeError; only unsigned padding and PEM whitespace may change without effect.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import { parseQuote, verifyDcapQuote } from '../../src/platforms/dcap/index.js';
import { loadVector } from './helpers.js';

const SGX = loadVector('sgx/dcapqvl-sgx-v3-00A067110000-2025-06');
const TDX = loadVector('tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06');
const TDX15 = loadVector('tdx/automata-alibaba-tdx-v5-90C06F000000-2025-06');

async function outcome(promise: Promise<unknown>): Promise<VeriteeError | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (!(error instanceof VeriteeError)) throw error;
    return error;
  }
}

function flipped(bytes: Uint8Array, offset: number, mask = 0x01): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = copy[offset]! ^ mask;
  return copy;
}

/** Offsets whose bytes carry no meaning: PEM whitespace, PEM NUL terminator, trailing padding. */
function benignOffsets(quote: Uint8Array): Set<number> {
  const parsed = parseQuote(quote);
  const out = new Set<number>();
  const pemStart = findPem(quote);
  for (let i = pemStart; i < quote.length; i++) {
    const c = quote[i]!;
    if (c === 0x0a || c === 0x0d || c === 0x20 || c === 0x09 || c === 0x00) out.add(i);
  }
  for (let i = quote.length - parsed.trailingBytes; i < quote.length; i++) out.add(i);
  return out;
}

function findPem(quote: Uint8Array): number {
  const marker = new TextEncoder().encode('-----BEGIN');
  outer: for (let i = 0; i < quote.length - marker.length; i++) {
    for (let j = 0; j < marker.length; j++) if (quote[i + j] !== marker[j]) continue outer;
    return i;
  }
  throw new Error('no PEM');
}

describe('every single-bit flip of a real quote', () => {
  for (const vector of [SGX, TDX, TDX15]) {
    it(`${vector.id}: is rejected unless it only touches whitespace or padding`, async () => {
      const benign = benignOffsets(vector.quote);
      const baseline = await verifyDcapQuote(vector.quote, {
        at: vector.at,
        collateral: vector.collateralJson,
      });
      const codes = new Map<string, number>();
      for (let offset = 0; offset < vector.quote.length; offset++) {
        const result = await outcome(
          verifyDcapQuote(flipped(vector.quote, offset), {
            at: vector.at,
            collateral: vector.collateralJson,
          }),
        );
        if (result === 'ok') {
          expect(benign.has(offset), `flip at ${offset} was accepted`).toBe(true);
        } else {
          codes.set(result.code, (codes.get(result.code) ?? 0) + 1);
        }
      }
      // A flip in the signed header/body is a signature failure, never silently accepted.
      expect(codes.get(ErrorCode.SIG_INVALID)).toBeGreaterThan(500);
      expect(baseline.tcb?.status).toBe(vector.expected.tcb_status);
    });
  }
});

describe('targeted quote mutations', () => {
  const parsed = parseQuote(SGX.quote);
  const bodyEnd = parsed.signedBytes.length;
  const sigStart = bodyEnd + 4;

  const cases: [string, number, ErrorCode][] = [
    ['report data (signed body)', bodyEnd - 1, ErrorCode.SIG_INVALID],
    ['header QE SVN', 8, ErrorCode.SIG_INVALID],
    ['quote signature r', sigStart, ErrorCode.SIG_INVALID],
    ['quote signature s', sigStart + 63, ErrorCode.SIG_INVALID],
    ['attestation key', sigStart + 64 + 10, ErrorCode.EVIDENCE_INVALID],
    ['QE report MRENCLAVE', sigStart + 128 + 64, ErrorCode.SIG_INVALID],
    ['QE report signature', sigStart + 128 + 384 + 5, ErrorCode.SIG_INVALID],
    ['QE vendor ID', 12, ErrorCode.EVIDENCE_INVALID],
  ];
  for (const [what, offset, code] of cases) {
    it(`${what} → ${code}`, async () => {
      const result = await outcome(
        verifyDcapQuote(flipped(SGX.quote, offset, 0x40), { at: SGX.at, collateral: SGX.collateralJson }),
      );
      expect(result).not.toBe('ok');
      expect((result as VeriteeError).code).toBe(code);
    });
  }

  it('QE authentication data → EVIDENCE_INVALID (report data no longer binds the key)', async () => {
    const authSizeOffset = sigStart + 128 + 384 + 64;
    const authSize = SGX.quote[authSizeOffset]! | (SGX.quote[authSizeOffset + 1]! << 8);
    expect(authSize).toBeGreaterThan(0);
    const result = await outcome(
      verifyDcapQuote(flipped(SGX.quote, authSizeOffset + 2), { at: SGX.at, collateral: SGX.collateralJson }),
    );
    expect((result as VeriteeError).code).toBe(ErrorCode.EVIDENCE_INVALID);
  });

  it('a PCK certificate from another platform → SIG_INVALID on the QE report', async () => {
    // Replace the SGX quote's PCK chain with the one from the other SGX quote (same CA, other leaf).
    const other = loadVector('sgx/crosssrc-automata-solana-sgx-v3-00A067110000-2025-06');
    const mine = parseQuote(SGX.quote).qe.pckChainPem;
    const theirs = parseQuote(other.quote).qe.pckChainPem;
    expect(mine.length).toBe(theirs.length);
    const start = findPem(SGX.quote);
    const swapped = SGX.quote.slice();
    swapped.set(new TextEncoder().encode(theirs), start);
    const result = await outcome(verifyDcapQuote(swapped, { at: SGX.at, collateral: SGX.collateralJson }));
    expect((result as VeriteeError).code).toBe(ErrorCode.SIG_INVALID);
    expect((result as VeriteeError).path).toBe('quote/signatureData/qeReportSignature');
  });

  it('stray text after the PCK chain is refused even once the same chain was seen (remembered by value)', async () => {
    const pem = parseQuote(SGX.quote).qe.pckChainPem; // the valid text is now remembered
    const end = pem.lastIndexOf('-----END CERTIFICATE-----') + 25;
    const tail = pem.length - end;
    expect(tail).toBeGreaterThan(0);
    const start = findPem(SGX.quote);
    const mutated = SGX.quote.slice();
    mutated.set(new TextEncoder().encode('x'.repeat(tail)), start + end);
    expect(() => parseQuote(mutated)).toThrow(/outside PEM certificate blocks/);
    // A remembered text is returned only when equal: the original still parses to the same string.
    expect(parseQuote(SGX.quote).qe.pckChainPem).toBe(pem);
  });

  it('a truncated PCK chain (leaf only) → CHAIN_BROKEN', async () => {
    const pem = parseQuote(SGX.quote).qe.pckChainPem;
    const leafOnly = pem.slice(0, pem.indexOf('-----END CERTIFICATE-----') + 25);
    const start = findPem(SGX.quote);
    const padded = leafOnly + ' '.repeat(pem.length - leafOnly.length);
    const mutated = SGX.quote.slice();
    mutated.set(new TextEncoder().encode(padded), start);
    const result = await outcome(verifyDcapQuote(mutated, { at: SGX.at, collateral: SGX.collateralJson }));
    expect((result as VeriteeError).code).toBe(ErrorCode.CHAIN_BROKEN);
  });
});

describe('collateral mutations', () => {
  const at = TDX.at;
  const base = TDX.collateralJson as Record<string, string>;
  async function withCollateral(change: Record<string, unknown>): Promise<VeriteeError | 'ok'> {
    return outcome(verifyDcapQuote(TDX.quote, { at, collateral: { ...base, ...change } }));
  }

  it('one character of the TCB Info text → SIG_INVALID', async () => {
    const text = base.tcb_info!;
    for (const position of [0, 10, Math.floor(text.length / 2), text.length - 2]) {
      const c = text[position] === '1' ? '2' : '1';
      const result = await withCollateral({
        tcb_info: text.slice(0, position) + c + text.slice(position + 1),
      });
      expect((result as VeriteeError).code).toBe(ErrorCode.SIG_INVALID);
    }
  });

  it('TCB Info re-serialised (same JSON value, other bytes) → SIG_INVALID', async () => {
    const result = await withCollateral({ tcb_info: JSON.stringify(JSON.parse(base.tcb_info!), null, 1) });
    expect((result as VeriteeError).code).toBe(ErrorCode.SIG_INVALID);
  });

  it('TCB Info and QE Identity signatures → SIG_INVALID', async () => {
    for (const field of ['tcb_info_signature', 'qe_identity_signature']) {
      const sig = base[field]!;
      const result = await withCollateral({
        [field]: `${sig.slice(0, 10)}${sig[10] === '0' ? '1' : '0'}${sig.slice(11)}`,
      });
      expect((result as VeriteeError).code).toBe(ErrorCode.SIG_INVALID);
    }
  });

  it('QE Identity text → SIG_INVALID; TCB Info swapped with QE Identity → SIG_INVALID', async () => {
    const text = base.qe_identity!;
    expect(
      ((await withCollateral({ qe_identity: text.replace('"TD_QE"', '"QE"') })) as VeriteeError).code,
    ).toBe(ErrorCode.SIG_INVALID);
    const swapped = await withCollateral({
      tcb_info: base.qe_identity,
      tcb_info_signature: base.qe_identity_signature,
      qe_identity: base.tcb_info,
      qe_identity_signature: base.tcb_info_signature,
    });
    expect(swapped).not.toBe('ok');
  });

  it('every byte of the PCK CRL and Root CA CRL matters', async () => {
    for (const field of ['pck_crl', 'root_ca_crl']) {
      const hex = base[field]!;
      const codes = new Set<string>();
      for (let i = 0; i < hex.length; i += 2 * 7) {
        const byte = Number.parseInt(hex.slice(i, i + 2), 16) ^ 0x01;
        const result = await withCollateral({
          [field]: hex.slice(0, i) + byte.toString(16).padStart(2, '0') + hex.slice(i + 2),
        });
        expect(result, `${field} byte ${i / 2}`).not.toBe('ok');
        codes.add((result as VeriteeError).code);
      }
      expect(codes.has(ErrorCode.SIG_INVALID) || codes.has(ErrorCode.CRL_INVALID)).toBe(true);
    }
  });

  it('PCK CRL replaced by the Root CA CRL → CRL_ISSUER_MISMATCH', async () => {
    const result = await withCollateral({ pck_crl: base.root_ca_crl });
    expect((result as VeriteeError).code).toBe(ErrorCode.CRL_ISSUER_MISMATCH);
  });

  it('a PCK CRL of the other PCK CA (Processor) → CRL_ISSUER_MISMATCH', async () => {
    const sgx = SGX.collateralJson as Record<string, string>;
    const result = await withCollateral({
      pck_crl: sgx.pck_crl,
      pck_crl_issuer_chain: sgx.pck_crl_issuer_chain,
    });
    expect((result as VeriteeError).code).toBe(ErrorCode.CRL_ISSUER_MISMATCH);
  });

  it('TCB Info signed by a non-TCB-Signing certificate → CHAIN_BROKEN', async () => {
    const result = await withCollateral({ tcb_info_issuer_chain: base.pck_crl_issuer_chain });
    expect((result as VeriteeError).code).toBe(ErrorCode.CHAIN_BROKEN);
  });

  it('missing and malformed fields are typed errors', async () => {
    const { tcb_info: _, ...rest } = base;
    expect(((await outcome(verifyDcapQuote(TDX.quote, { at, collateral: rest }))) as VeriteeError).code).toBe(
      ErrorCode.COLLATERAL_MISSING,
    );
    expect(((await withCollateral({ extra: 1 })) as VeriteeError).code).toBe(ErrorCode.PARSE_UNKNOWN_FIELD);
    expect(((await withCollateral({ pck_crl: 'zz' })) as VeriteeError).code).toBe(
      ErrorCode.COLLATERAL_INVALID,
    );
    expect(((await withCollateral({ tcb_info_signature: 'abcd' })) as VeriteeError).code).toBe(
      ErrorCode.COLLATERAL_INVALID,
    );
    expect(((await withCollateral({ tcb_info_issuer_chain: 'not pem' })) as VeriteeError).code).toBe(
      ErrorCode.PARSE_MALFORMED,
    );
    for (const bad of ['', '{', 'null', '[]', '{"a":']) {
      expect(await outcome(verifyDcapQuote(TDX.quote, { at, collateral: bad }))).not.toBe('ok');
    }
  });

  it('a custom trust anchor that is not Intel’s → CHAIN_UNTRUSTED_ROOT', async () => {
    const { AWS_NITRO_ROOT_G1, pinnedAnchor } = await import('../../src/pki/index.js');
    const anchor = await pinnedAnchor(AWS_NITRO_ROOT_G1);
    const result = await outcome(
      verifyDcapQuote(TDX.quote, { at, collateral: TDX.collateralJson, anchors: [anchor] }),
    );
    expect((result as VeriteeError).code).toBe(ErrorCode.CHAIN_UNTRUSTED_ROOT);
  });

  it('an edited collateral object is re-read, not served from the cache', async () => {
    const collateral = { ...base };
    await verifyDcapQuote(TDX.quote, { at, collateral });
    collateral.tcb_info = collateral.tcb_info!.replace('"TDX"', '"SGX"');
    const result = await outcome(verifyDcapQuote(TDX.quote, { at, collateral }));
    expect((result as VeriteeError).code).toBe(ErrorCode.SIG_INVALID);
  });

  it('the cache never outlives the collateral: a later verification re-checks dates', async () => {
    await verifyDcapQuote(TDX.quote, { at, collateral: TDX.collateralJson });
    const late = await outcome(
      verifyDcapQuote(TDX.quote, { at: new Date(at.getTime() + 86400_000), collateral: TDX.collateralJson }),
    );
    expect(late).not.toBe('ok');
  });
});
