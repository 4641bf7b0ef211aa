/**
 * The simulator's Intel-shaped PKI for TDX quotes, generated once per installation next to the Nitro root
 * and kept in `<simulator dir>/tdx/` (0700):
 *
 *   root.pem                the development root (P-256, self-signed): give it to verifiers that trust the sim
 *   pck-ca.pem              "Intel SGX PCK Platform CA", issued by the root
 *   tcb-signing.pem         "Intel SGX TCB Signing", issued by the root: signs TCB Info and QE Identity
 *   pck.pem                 "Intel SGX PCK Certificate" of the one simulated platform, issued by the PCK CA,
 *                           carrying the SGX extension (PPID, TCB, PCE-ID, FMSPC, SGX type)
 *   *.key.pem               their private keys, PKCS #8, mode 0600
 *
 * The shape is Intel's ("Intel SGX PCK Certificate and CRL Profile Specification": ECDSA P-256 with
 * SHA-256; the common names DCAP verifiers check), but every subject names the organisation `veritee
 * simulator (not real hardware)`, so a verifier that trusts the root as a simulator root reports platform
 * `sim`, and one that does not rejects the chain as untrusted.
 */
import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { type Certificate, parsePemCertificates } from '../../pki/certificate.js';
import { SIMULATOR_ORGANIZATION } from '../../pki/chain.js';
import {
  IntelName,
  type PckExtension,
  parsePckExtension,
  SGX_EXTENSION_OID,
} from '../../platforms/dcap/pck.js';
import { derEnumerated, derInteger, derOctetString, derOid, derSequence } from './der.js';
import {
  readPrivateKey,
  readSimulatorFile,
  SIM_TDX_DIR,
  SIM_TDX_ROOT_CERT,
  toPem,
  writeAtomically,
} from './store.js';
import { type CertificateRequest, type DistinguishedName, issueCertificate } from './x509.js';

/**
 * The simulated platform's FMSPC: not one of Intel's (Intel's FMSPCs start with the CPU family/model
 * bytes, e.g. 00806F… or B0C06F…), so simulator collateral never shares a store key with real collateral.
 */
export const SIM_FMSPC = Uint8Array.of(0xee, 0x51, 0x00, 0x00, 0x00, 0x00);
/** Intel's PCE-ID (every real platform so far). */
export const SIM_PCE_ID = Uint8Array.of(0x00, 0x00);
/** The simulated platform's SGX TCB component SVNs and PCESVN (plausible values for a current server). */
export const SIM_SGX_COMPONENTS: readonly number[] = [3, 3, 2, 2, 4, 1, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0];
export const SIM_PCE_SVN = 13;

const YEAR_MS = 365 * 24 * 3600 * 1000;

type Role = 'root' | 'pckCa' | 'tcbSigning' | 'pck';

/** File name (without `.pem` / `.key.pem`) of each certificate of the PKI. */
const FILES: Readonly<Record<Role, string>> = {
  root: 'root',
  pckCa: 'pck-ca',
  tcbSigning: 'tcb-signing',
  pck: 'pck',
};

export interface SimulatedIdentity {
  readonly certificate: Certificate;
  readonly pem: string;
  readonly key: KeyObject;
  readonly name: DistinguishedName;
}

export interface SimulatedIntelPki {
  readonly dir: string;
  readonly root: SimulatedIdentity;
  readonly pckCa: SimulatedIdentity;
  readonly tcbSigning: SimulatedIdentity;
  readonly pck: SimulatedIdentity;
  /** The PCK certificate's SGX extension, read back with the verifier's own parser. */
  readonly platform: PckExtension;
}

/** DER of the SGX extension ("SGX PCK Certificate and CRL Profile", §1.5 SGX Extensions). */
function sgxExtension(ppid: Uint8Array, cpuSvn: Uint8Array): Uint8Array {
  const entry = (suffix: string, value: Uint8Array) =>
    derSequence(derOid(`${SGX_EXTENSION_OID}.${suffix}`), value);
  const tcb = [
    ...SIM_SGX_COMPONENTS.map((svn, i) => entry(`2.${i + 1}`, derInteger(svn))),
    entry('2.17', derInteger(SIM_PCE_SVN)),
    entry('2.18', derOctetString(cpuSvn)),
  ];
  return derSequence(
    entry('1', derOctetString(ppid)),
    entry('2', derSequence(...tcb)),
    entry('3', derOctetString(SIM_PCE_ID)),
    entry('4', derOctetString(SIM_FMSPC)),
    entry('5', derEnumerated(1)), // SGX Type: Scalable (TDX platforms)
  );
}

function generatePki(target: string): void {
  const now = Date.now();
  const keys = {
    root: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    pckCa: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    tcbSigning: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    pck: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  };
  const nameOf = (commonName: string): DistinguishedName => ({
    commonName,
    organization: SIMULATOR_ORGANIZATION,
  });
  const names = {
    root: nameOf(`veritee simulator SGX Root CA ${randomBytes(4).toString('hex')}`),
    // The common names DCAP verifiers require of each role ("SGX PCK Certificate and CRL Profile").
    pckCa: nameOf(IntelName.pckPlatformCa),
    tcbSigning: nameOf(IntelName.tcbSigning),
    pck: nameOf(IntelName.pck),
  };
  const issue = (
    role: Role,
    issuer: 'root' | 'pckCa',
    years: number,
    extra: Partial<Pick<CertificateRequest, 'pathLength' | 'extensions'>> = {},
  ): Uint8Array =>
    issueCertificate({
      subject: names[role],
      issuer: names[issuer],
      publicKey: keys[role].publicKey,
      signingKey: keys[issuer].privateKey,
      serial: randomBytes(16),
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + years * YEAR_MS),
      ca: role === 'root' || role === 'pckCa',
      ...extra,
    });
  const certificates = {
    root: issue('root', 'root', 10, { pathLength: 1 }),
    pckCa: issue('pckCa', 'root', 10, { pathLength: 0 }),
    tcbSigning: issue('tcbSigning', 'root', 7),
    pck: issue('pck', 'pckCa', 7, {
      extensions: [{ oid: SGX_EXTENSION_OID, value: sgxExtension(randomBytes(16), randomBytes(16)) }],
    }),
  };
  for (const role of Object.keys(keys) as Role[]) {
    // Key first: a reader that finds a certificate can always find its key.
    writeAtomically(
      join(target, `${FILES[role]}.key.pem`),
      keys[role].privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
      0o600,
    );
    writeAtomically(join(target, `${FILES[role]}.pem`), toPem(certificates[role], 'CERTIFICATE'), 0o644);
  }
}

/** Creates `<dir>/tdx` all at once (built in a temporary directory, then renamed into place). */
function createPki(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const staging = mkdtempSync(join(dir, '.tdx-'));
  try {
    generatePki(staging);
    renameSync(staging, join(dir, SIM_TDX_DIR));
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process may have created it at the same time; use theirs if it is there now.
    if (!existsSync(join(dir, SIM_TDX_ROOT_CERT))) {
      throw new VeriteeError(ErrorCode.PROVIDER_FAILED, `cannot create the simulator's TDX PKI in ${dir}`, {
        details: (error as NodeJS.ErrnoException).code ?? String(error),
      });
    }
  }
}

function readIdentity(dir: string, role: Role): SimulatedIdentity {
  const path = join(dir, SIM_TDX_DIR, `${FILES[role]}.pem`);
  const pem = readSimulatorFile(path);
  const [certificate] = parsePemCertificates(pem, path);
  if (certificate === undefined || !certificate.subject.includes(SIMULATOR_ORGANIZATION)) {
    throw new VeriteeError(ErrorCode.PROVIDER_FAILED, `${path} is not a veritee simulator certificate`);
  }
  const commonName = /CN=([^,]+)/.exec(certificate.subject)?.[1] ?? '';
  return {
    certificate,
    pem,
    key: readPrivateKey(join(dir, SIM_TDX_DIR, `${FILES[role]}.key.pem`)),
    name: { commonName, organization: SIMULATOR_ORGANIZATION },
  };
}

/** Loads the simulator's TDX PKI from `dir`, generating it on first use when `create` is set. */
export function loadSimulatedIntelPki(dir: string, create = true): SimulatedIntelPki {
  if (!existsSync(join(dir, SIM_TDX_ROOT_CERT))) {
    if (!create) {
      throw new VeriteeError(ErrorCode.PROVIDER_UNAVAILABLE, `no simulator TDX PKI in ${dir}`, {
        details: 'run the simulator once (veritee serve --provider sim --sim-format tdx) to create it',
      });
    }
    createPki(dir);
  }
  const pck = readIdentity(dir, 'pck');
  return {
    dir,
    root: readIdentity(dir, 'root'),
    pckCa: readIdentity(dir, 'pckCa'),
    tcbSigning: readIdentity(dir, 'tcbSigning'),
    pck,
    platform: parsePckExtension(pck.certificate, join(dir, SIM_TDX_DIR, 'pck.pem')),
  };
}
