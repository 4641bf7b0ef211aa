/** The issuer-chain memo: an answer is reused only for the same anchors, trusted the same way, in time. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, type VeriteeError } from '../../src/errors.js';
import {
  INTEL_SGX_ROOT_CA,
  parsePemCertificates,
  pinnedAnchor,
  type TrustAnchor,
} from '../../src/pki/index.js';
import { knownChain, verifyChainMemo } from '../../src/platforms/dcap/chains.js';
import { loadVector } from './helpers.js';

const vector = loadVector('tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06');
const chainPem = readFileSync(join(vector.dir, 'tcb_info_issuer_chain.pem'), 'utf8');

async function fresh(): Promise<{
  certificates: ReturnType<typeof parsePemCertificates>;
  root: TrustAnchor;
}> {
  // A new array object each time: the memo is per chain object.
  return { certificates: parsePemCertificates(chainPem), root: await pinnedAnchor(INTEL_SGX_ROOT_CA) };
}

describe('verifyChainMemo', () => {
  it('answers a repeat from the memo, for the same anchors only', async () => {
    const { certificates, root } = await fresh();
    const options = { at: vector.at, anchors: [root], maxLength: 2 };
    expect(knownChain(certificates, options)).toBeUndefined();
    const chain = await verifyChainMemo(certificates, options);
    expect(knownChain(certificates, { ...options, anchors: [root] })).toBe(chain);
    expect(knownChain(certificates, { ...options, maxLength: 3 })).toBeUndefined();
    expect(knownChain(certificates, { ...options, knownCriticalExtensions: ['1.2.3'] })).toBeUndefined();
    expect(knownChain(certificates, { ...options, anchors: [] })).toBeUndefined();
  });

  it('never answers for the same root trusted as a simulator root', async () => {
    const { certificates, root } = await fresh();
    await verifyChainMemo(certificates, { at: vector.at, anchors: [root] });
    const simulator: TrustAnchor = { ...root, kind: 'simulator' };
    expect(knownChain(certificates, { at: vector.at, anchors: [simulator] })).toBeUndefined();
    const chain = await verifyChainMemo(certificates, { at: vector.at, anchors: [simulator] });
    expect(chain.anchor.kind).toBe('simulator');
    expect((await verifyChainMemo(certificates, { at: vector.at, anchors: [root] })).anchor.kind).not.toBe(
      'simulator',
    );
  });

  it('re-verifies outside the validity window and with the root removed (and fails)', async () => {
    const { certificates, root } = await fresh();
    await verifyChainMemo(certificates, { at: vector.at, anchors: [root] });
    const late = new Date(Date.UTC(2100, 0, 1));
    expect(knownChain(certificates, { at: late, anchors: [root] })).toBeUndefined();
    await expect(verifyChainMemo(certificates, { at: late, anchors: [root] })).rejects.toMatchObject({
      code: ErrorCode.CERT_EXPIRED,
    } satisfies Partial<VeriteeError>);
    await expect(verifyChainMemo(certificates, { at: vector.at, anchors: [] })).rejects.toBeInstanceOf(Error);
  });
});
