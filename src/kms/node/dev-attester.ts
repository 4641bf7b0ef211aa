/**
 * A throw-away attester for the drill, the demo and the benchmark: real-format Nitro attestation
 * documents (COSE_Sign1, ES384) signed by a P-384 root created for one run and trusted only by nodes
 * started with `--trust-root <that root>`. It is NOT hardware evidence and no node trusts it by default.
 *
 * The project's simulator (platform `sim`, a per-installation root) replaces this once it is on main;
 * until then this keeps the drill self-contained.
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { toHex } from '../../bytes.js';
import { encodeHead } from '../../cbor.js';
import { issueCertificate } from '../../runtime/sim/x509.js';

const DEV_ORGANIZATION = 'veritee throw-away dev root (not hardware)';

/** One certificate of the throw-away chain, issued like the simulator's (P-384, SHA-384). */
function issue(options: {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signer: KeyObject;
  ca: boolean;
  notBefore: Date;
  notAfter: Date;
}): Uint8Array {
  return issueCertificate({
    subject: { commonName: options.subject, organization: DEV_ORGANIZATION },
    issuer: { commonName: options.issuer, organization: DEV_ORGANIZATION },
    publicKey: options.publicKey,
    signingKey: options.signer,
    serial: new Uint8Array(randomBytes(16)),
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    ca: options.ca,
  });
}

type Cbor = number | string | null | Uint8Array | Cbor[] | Map<Cbor, Cbor>;

function cbor(value: Cbor): Uint8Array {
  const parts: Uint8Array[] = [];
  const walk = (item: Cbor) => {
    if (item === null) parts.push(Uint8Array.of(0xf6));
    else if (typeof item === 'number') parts.push(item >= 0 ? encodeHead(0, item) : encodeHead(1, -1 - item));
    else if (typeof item === 'string') {
      const bytes = Buffer.from(item, 'utf8');
      parts.push(encodeHead(3, bytes.length), bytes);
    } else if (item instanceof Uint8Array) parts.push(encodeHead(2, item.length), item);
    else if (item instanceof Map) {
      parts.push(encodeHead(5, item.size));
      for (const [key, entry] of item) {
        walk(key);
        walk(entry);
      }
    } else {
      parts.push(encodeHead(4, item.length));
      for (const entry of item) walk(entry);
    }
  };
  walk(value);
  return Buffer.concat(parts);
}

/** PCR value for a label: SHA-384(label). */
export function labelPcr(label: string): Uint8Array {
  return new Uint8Array(createHash('sha384').update(label).digest());
}

export interface DevAttester {
  /** The root certificate (PEM) to give nodes as `--trust-root`. */
  readonly rootPem: string;
  /** Evidence for an enclave running `image` (PCR0 = SHA-384(image)), binding `reportData`. */
  attest(reportData: Uint8Array, image?: string): Uint8Array;
  /** PCR0 (hex) of an image label. */
  pcr0(image?: string): string;
}

export const DEFAULT_IMAGE = 'veritee kms example app v1';

/** Creates a throw-away root and signing leaf, valid for a day from now. */
export function createDevAttester(): DevAttester {
  const now = Date.now();
  const root = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const leaf = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const window = { notBefore: new Date(now - 3600_000), notAfter: new Date(now + 24 * 3600_000) };
  const rootName = `veritee throw-away root ${randomBytes(4).toString('hex')}`;
  const rootDer = issue({
    subject: rootName,
    issuer: rootName,
    publicKey: root.publicKey,
    signer: root.privateKey,
    ca: true,
    ...window,
  });
  const leafDer = issue({
    subject: 'i-veritee-dev-enclave',
    issuer: rootName,
    publicKey: leaf.publicKey,
    signer: root.privateKey,
    ca: false,
    ...window,
  });
  const rootPem = `-----BEGIN CERTIFICATE-----\n${Buffer.from(rootDer)
    .toString('base64')
    .replace(/.{64}/g, '$&\n')
    .replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
  return {
    rootPem,
    pcr0: (image = DEFAULT_IMAGE) => toHex(labelPcr(image)),
    attest(reportData, image = DEFAULT_IMAGE) {
      const pcrs = new Map<Cbor, Cbor>();
      for (let index = 0; index < 16; index++) pcrs.set(index, new Uint8Array(48));
      pcrs.set(0, labelPcr(image));
      pcrs.set(1, labelPcr('veritee dev kernel'));
      pcrs.set(2, labelPcr('veritee dev application'));
      const payload = cbor(
        new Map<Cbor, Cbor>([
          ['module_id', 'i-veritee-dev-enclave'],
          ['digest', 'SHA384'],
          ['timestamp', Date.now()],
          ['pcrs', pcrs],
          ['certificate', leafDer],
          ['cabundle', [rootDer]],
          ['public_key', null],
          ['user_data', reportData.slice()],
          ['nonce', null],
        ]),
      );
      const protectedHeader = cbor(new Map<Cbor, Cbor>([[1, -35]]));
      const toBeSigned = cbor(['Signature1', protectedHeader, new Uint8Array(), payload]);
      const signature = sign('sha384', toBeSigned, { key: leaf.privateKey, dsaEncoding: 'ieee-p1363' });
      return cbor([protectedHeader, new Map(), payload, new Uint8Array(signature)]);
    },
  };
}
