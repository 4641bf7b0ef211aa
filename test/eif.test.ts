/**
 * EIF parser and PCR calculator on EIF files built here from known parts. Expected PCRs are derived step
 * by step from the published algorithm (aws-nitro-enclaves-image-format eif_reader.rs + eif_hasher.rs):
 * PCR = SHA-384(0^48 ‖ SHA-384(data)), with node:crypto, independently of the code under test.
 */
import { createHash } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isVeriteeError } from '../src/errors.js';
import { crc32 } from '../src/measure/crc32.js';
import { eifPcrs, measureEif, parseEif, verifyEifSignature } from '../src/measure/eif.js';
import { EncMap, encode } from './helpers/cbor-encode.js';
import { buildEif, type EifPart, fixCrc, SECTION } from './helpers/eif-build.js';
import { fakeCert, signEs384 } from './helpers/fake-chain.js';

const te = new TextEncoder();
const sha384 = (...parts: Uint8Array[]) => {
  const h = createHash('sha384');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const extend = (data: Uint8Array[]) =>
  Buffer.from(sha384(new Uint8Array(48), sha384(...data))).toString('hex');

const kernel = te.encode('bzImage: a pretend kernel\n'.repeat(40));
const cmdline = te.encode('reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on');
const init = te.encode('init ramdisk: /init and nsm.ko');
const app1 = te.encode('application ramdisk 1: rootfs');
const app2 = te.encode('application ramdisk 2: cmd + env');
const metadata = te.encode(JSON.stringify({ ImageName: 'test', ImageVersion: '1.0' }));

const unsignedParts: EifPart[] = [
  { type: SECTION.kernel, data: kernel },
  { type: SECTION.cmdline, data: cmdline },
  { type: SECTION.metadata, data: metadata },
  { type: SECTION.ramdisk, data: init },
  { type: SECTION.ramdisk, data: app1 },
  { type: SECTION.ramdisk, data: app2 },
];

function expectCode(fn: () => unknown, code: string) {
  try {
    fn();
  } catch (error) {
    expect(isVeriteeError(error), String(error)).toBe(true);
    expect((error as { code: string }).code).toBe(code);
    return error as Error;
  }
  throw new Error(`expected ${code}, nothing thrown`);
}

const byteArray = (bytes: Uint8Array) => [...bytes];

async function signedParts() {
  const cert = await fakeCert({ name: 'eif signer', curve: 'P-384' });
  const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(cert.der).toString('base64')}\n-----END CERTIFICATE-----\n`;
  const pcr0 = Buffer.from(extend([kernel, cmdline, init, app1, app2]), 'hex');
  const protectedBytes = encode(new EncMap([[1, -35]]));
  const payload = encode(
    new EncMap([
      ['register_index', 0],
      ['register_value', byteArray(pcr0)],
    ]),
  );
  const toSign = encode(['Signature1', protectedBytes, new Uint8Array(0), payload]);
  const signature = await signEs384(cert.keys.privateKey, toSign);
  const cose = encode([protectedBytes, new EncMap([]), payload, signature]);
  const section = encode([
    new EncMap([
      ['signing_certificate', byteArray(te.encode(pem))],
      ['signature', byteArray(cose)],
    ]),
  ]);
  return { cert, section, parts: [...unsignedParts, { type: SECTION.signature, data: section }] };
}

describe('CRC-32', () => {
  it('has the standard check value and agrees with zlib', () => {
    expect(crc32(te.encode('123456789'))).toBe(0xcbf43926);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => crc32(bytes) === zlibCrc32(bytes)));
  });
});

describe('EIF PCRs', () => {
  it('computes PCR0/1/2 of an unsigned image step by step', () => {
    const eif = buildEif(unsignedParts);
    const pcrs = measureEif(eif);
    // PCR0: kernel ‖ cmdline ‖ every ramdisk (metadata excluded).
    expect(pcrs.pcr0).toBe(extend([kernel, cmdline, init, app1, app2]));
    // PCR1: kernel ‖ cmdline ‖ first ramdisk.
    expect(pcrs.pcr1).toBe(extend([kernel, cmdline, init]));
    // PCR2: the ramdisks after the first.
    expect(pcrs.pcr2).toBe(extend([app1, app2]));
    expect(pcrs.pcr8).toBeUndefined();
    expect(pcrs.image.header).toMatchObject({ version: 4, arch: 'x86_64', sectionCount: 6, defaultCpus: 2n });
    expect(pcrs.image.metadata).toEqual({ ImageName: 'test', ImageVersion: '1.0' });
    // Concatenation, not per-section: splitting data across sections differently changes nothing else.
    expect(pcrs.pcr0).toBe(extend([Buffer.concat([kernel, cmdline, init, app1, app2])]));
  });

  it('a single ramdisk gives PCR2 of empty data', () => {
    const eif = buildEif([
      { type: SECTION.kernel, data: kernel },
      { type: SECTION.cmdline, data: cmdline },
      { type: SECTION.ramdisk, data: init },
    ]);
    const pcrs = measureEif(eif);
    expect(pcrs.pcr2).toBe(extend([]));
    expect(pcrs.pcr0).toBe(pcrs.pcr1);
  });

  it('computes PCR8 from the signing certificate and verifies the PCR0 signature', async () => {
    const { cert, parts } = await signedParts();
    const eif = buildEif(parts, { flags: 1 });
    const pcrs = measureEif(eif);
    expect(pcrs.image.header.arch).toBe('aarch64');
    expect(pcrs.pcr8).toBe(extend([cert.der]));
    expect(pcrs.pcr0).toBe(extend([kernel, cmdline, init, app1, app2]));
    await expect(verifyEifSignature(pcrs.image, pcrs.pcr0)).resolves.toBeUndefined();
    await expect(verifyEifSignature(pcrs.image, pcrs.pcr1)).rejects.toMatchObject({ code: 'SIG_INVALID' });
    const unsigned = parseEif(buildEif(unsignedParts));
    await expect(verifyEifSignature(unsigned, pcrs.pcr0)).rejects.toMatchObject({
      code: 'PARSE_MISSING_FIELD',
    });
  });

  it('rejects a signature made by another key', async () => {
    // Same COSE signature, certificate swapped: PCR8 changes and the signature no longer verifies.
    const other = await fakeCert({ name: 'other', curve: 'P-384' });
    const pem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(other.der).toString('base64')}\n-----END CERTIFICATE-----\n`;
    const { parts: signed } = await signedParts();
    const cose = parseEif(buildEif(signed)).signature![0]!.coseSign1;
    const swapped = encode([
      new EncMap([
        ['signing_certificate', byteArray(te.encode(pem))],
        ['signature', byteArray(cose)],
      ]),
    ]);
    const image = parseEif(buildEif([...unsignedParts, { type: SECTION.signature, data: swapped }]));
    expect(eifPcrs(image).pcr8).toBe(extend([other.der]));
    await expect(verifyEifSignature(image, eifPcrs(image).pcr0)).rejects.toMatchObject({
      code: 'SIG_INVALID',
    });
  });
});

describe('EIF parser strictness', () => {
  const good = buildEif(unsignedParts);
  const edit = (fn: (bytes: Uint8Array, view: DataView) => void, crc = true) => {
    const copy = good.slice();
    fn(copy, new DataView(copy.buffer));
    return crc ? fixCrc(copy) : copy;
  };

  it('rejects each broken rule with a typed error', () => {
    expectCode(() => parseEif(edit((b) => (b[0] = 0x2f))), 'FORMAT_UNKNOWN');
    expectCode(() => parseEif(edit((_, v) => v.setUint16(4, 5))), 'UNSUPPORTED');
    expectCode(() => parseEif(edit((_, v) => v.setUint16(4, 1))), 'UNSUPPORTED');
    expectCode(() => parseEif(edit((_, v) => v.setUint16(6, 2))), 'PARSE_INVALID_VALUE');
    expectCode(() => parseEif(edit((b) => (b[25] = 1))), 'PARSE_INVALID_VALUE'); // reserved
    expectCode(() => parseEif(edit((_, v) => v.setUint16(26, 0))), 'PARSE_INVALID_VALUE');
    expectCode(() => parseEif(edit((_, v) => v.setUint16(26, 33))), 'PARSE_INVALID_VALUE');
    expectCode(() => parseEif(edit((b) => (b[543] = 1))), 'PARSE_INVALID_VALUE'); // unused
    expectCode(() => parseEif(edit((_, v) => v.setBigUint64(28 + 8 * 31, 5n))), 'PARSE_INVALID_VALUE');
    expectCode(() => parseEif(edit((_, v) => v.setBigUint64(28, 2n ** 63n))), 'PARSE_INVALID_VALUE');
    expectCode(() => parseEif(edit((_, v) => v.setBigUint64(28, 549n))), 'PARSE_MALFORMED'); // gap
    expectCode(() => parseEif(edit((_, v) => v.setBigUint64(284, 3n))), 'PARSE_MALFORMED'); // size mismatch
    expectCode(() => parseEif(edit((_, v) => v.setUint16(548, 9))), 'PARSE_INVALID_VALUE'); // type
    expectCode(() => parseEif(edit((_, v) => v.setUint16(548, 0))), 'PARSE_INVALID_VALUE'); // invalid type 0
    expectCode(() => parseEif(edit((_, v) => v.setUint16(550, 1))), 'PARSE_INVALID_VALUE'); // section flags
    expectCode(() => parseEif(edit((b) => (b[600] = b[600]! ^ 1), false)), 'PARSE_INVALID_VALUE'); // CRC
    expectCode(() => parseEif(fixCrc(Uint8Array.from([...good, 0]))), 'PARSE_TRAILING_BYTES');
  });

  it('rejects wrong section sets', () => {
    const k = { type: SECTION.kernel, data: kernel };
    const c = { type: SECTION.cmdline, data: cmdline };
    const r = { type: SECTION.ramdisk, data: init };
    expectCode(() => parseEif(buildEif([c, r])), 'PARSE_MISSING_FIELD');
    expectCode(() => parseEif(buildEif([k, r])), 'PARSE_MISSING_FIELD');
    expectCode(() => parseEif(buildEif([k, c])), 'PARSE_MISSING_FIELD');
    expectCode(() => parseEif(buildEif([k, k, c, r])), 'PARSE_MALFORMED');
    expectCode(
      () => parseEif(buildEif([k, c, r, { type: SECTION.metadata, data: te.encode('{') }])),
      'PARSE_ENCODING',
    );
    expectCode(
      () => parseEif(buildEif([k, c, r, { type: SECTION.signature, data: encode([]) }])),
      'PARSE_MALFORMED',
    );
    expectCode(
      () =>
        parseEif(buildEif([k, c, r, { type: SECTION.signature, data: encode([new EncMap([['x', 1]])]) }])),
      'PARSE_UNKNOWN_FIELD',
    );
  });

  it('every truncation and every single-byte change of the header is refused with a VeriteeError', () => {
    for (let n = 0; n < good.length; n++) {
      try {
        parseEif(good.subarray(0, n));
        throw new Error(`truncation to ${n} accepted`);
      } catch (error) {
        expect(isVeriteeError(error), `${n}: ${error}`).toBe(true);
      }
    }
    for (let i = 0; i < 548 + 12; i++) {
      const copy = good.slice();
      copy[i] = copy[i]! ^ 0x40;
      expect(() => parseEif(copy)).toThrow();
      try {
        parseEif(copy);
      } catch (error) {
        expect(isVeriteeError(error), `byte ${i}: ${error}`).toBe(true);
      }
    }
  });

  it('fuzzed inputs only ever produce VeriteeErrors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), fc.nat(700), (noise, at) => {
        const copy = good.slice();
        copy.set(noise.subarray(0, Math.max(0, copy.length - at)), Math.min(at, copy.length));
        try {
          parseEif(fixCrc(copy));
        } catch (error) {
          if (!isVeriteeError(error)) throw error;
        }
      }),
      { numRuns: 500 },
    );
  });
});
