/**
 * Builds throw-away certificate chains for negative tests (a CA that is not a CA, a broken pathLen, a
 * leaf outside its window…). Real vendor chains are used everywhere a real one can show the behaviour.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface FakeCert {
  readonly der: Uint8Array;
  readonly keys: CryptoKeyPair;
}

export interface FakeCertOptions {
  readonly name: string;
  readonly issuer?: FakeCert & { readonly name: string };
  readonly ca?: boolean;
  readonly pathLength?: number;
  readonly keyUsage?: number;
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly curve?: 'P-256' | 'P-384';
  readonly serial?: string;
}

export type NamedFakeCert = FakeCert & { readonly name: string };

export async function fakeCert(options: FakeCertOptions): Promise<NamedFakeCert> {
  const curve = options.curve ?? 'P-384';
  const hash = curve === 'P-384' ? 'SHA-384' : 'SHA-256';
  const algorithm = { name: 'ECDSA', namedCurve: curve, hash };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = options.ca ?? false;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(ca, options.pathLength, true),
    new x509.KeyUsagesExtension(
      options.keyUsage ??
        (ca
          ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign
          : x509.KeyUsageFlags.digitalSignature),
      true,
    ),
  ];
  const common = {
    serialNumber: options.serial ?? '01',
    notBefore: options.notBefore ?? new Date('2020-01-01T00:00:00Z'),
    notAfter: options.notAfter ?? new Date('2040-01-01T00:00:00Z'),
    signingAlgorithm: algorithm,
    extensions,
  };
  const cert = options.issuer
    ? await x509.X509CertificateGenerator.create({
        ...common,
        subject: `CN=${options.name}`,
        issuer: `CN=${options.issuer.name}`,
        publicKey: keys.publicKey,
        signingKey: options.issuer.keys.privateKey,
      })
    : await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: `CN=${options.name}`, keys });
  return { name: options.name, der: new Uint8Array(cert.rawData), keys };
}

/** root → intermediate → leaf, all P-384, leaf valid in `leafWindow`. */
export async function fakeChain(leafWindow?: { notBefore: Date; notAfter: Date }) {
  const root = await fakeCert({ name: 'test root', ca: true });
  const intermediate = await fakeCert({ name: 'test intermediate', ca: true, issuer: root });
  const leaf = await fakeCert({ name: 'test leaf', issuer: intermediate, ...leafWindow });
  return { root, intermediate, leaf };
}

export async function signEs384(key: CryptoKey, data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-384' }, key, data));
}
