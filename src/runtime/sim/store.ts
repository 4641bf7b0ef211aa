/**
 * The simulator's development root, generated once per installation and kept in the user's config
 * directory: `$VERITEE_SIM_DIR`, else `$XDG_CONFIG_HOME/veritee/sim/`, else `~/.config/veritee/sim/`.
 *
 *   nitro-root.pem        the root certificate (P-384), public: give it to verifiers that trust the sim
 *   nitro-root.key.pem    its private key, PKCS #8, mode 0600 in a 0700 directory
 *   tdx/                  the Intel-shaped PKI of the simulated TDX platform (see `tdx-pki.ts`)
 *
 * The root's subject names the organisation `veritee simulator (not real hardware)`, and verifiers
 * treat any chain to it as platform `sim`. It is never a vendor root.
 */
import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { type Certificate, parsePemCertificates } from '../../pki/certificate.js';
import { makeTrustAnchor, SIMULATOR_ORGANIZATION, type TrustAnchor } from '../../pki/chain.js';
import { issueCertificate } from './x509.js';

export const SIM_ROOT_CERT = 'nitro-root.pem';
export const SIM_ROOT_KEY = 'nitro-root.key.pem';
/** The TDX PKI's directory and root (`tdx-pki.ts`). */
export const SIM_TDX_DIR = 'tdx';
export const SIM_TDX_ROOT_CERT = `${SIM_TDX_DIR}/root.pem`;
/** The public roots a simulator directory may hold. */
const SIM_ROOT_CERTS = [SIM_ROOT_CERT, SIM_TDX_ROOT_CERT] as const;
const ROOT_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

/** The directory the simulator keeps its root in (see the module comment). */
export function simulatorDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VERITEE_SIM_DIR) return env.VERITEE_SIM_DIR;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'veritee', 'sim');
}

export interface SimulatorRoot {
  readonly dir: string;
  readonly certificateDer: Uint8Array;
  readonly certificate: Certificate;
  readonly privateKey: KeyObject;
  readonly commonName: string;
}

export function toPem(der: Uint8Array, label: string): string {
  const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${base64.replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

export function writeAtomically(path: string, text: string, mode: number): void {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(temporary, text, { mode, flag: 'wx' });
  chmodSync(temporary, mode);
  renameSync(temporary, path);
}

function generateRoot(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const commonName = `veritee simulator root ${randomBytes(4).toString('hex')}`;
  const subject = { commonName, organization: SIMULATOR_ORGANIZATION };
  const now = Date.now();
  const der = issueCertificate({
    subject,
    issuer: subject,
    publicKey,
    signingKey: privateKey,
    serial: randomBytes(16),
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + ROOT_LIFETIME_MS),
    ca: true,
  });
  // Key first: a reader that finds the certificate can always find its key.
  writeAtomically(
    join(dir, SIM_ROOT_KEY),
    privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    0o600,
  );
  writeAtomically(join(dir, SIM_ROOT_CERT), toPem(der, 'CERTIFICATE'), 0o644);
}

export function checkKeyFileMode(path: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new VeriteeError(ErrorCode.PROVIDER_FAILED, `simulator key ${path} is readable by others`, {
      details: `mode ${mode.toString(8)}; expected 600 (chmod 600 the file)`,
    });
  }
}

/** Reads a PKCS #8 private key the simulator wrote, refusing one that others can read. */
export function readPrivateKey(path: string): KeyObject {
  const text = readSimulatorFile(path);
  checkKeyFileMode(path);
  try {
    return createPrivateKey(text);
  } catch {
    // Never the key material itself in an error.
    throw new VeriteeError(ErrorCode.PROVIDER_FAILED, `simulator key ${path} is not a PKCS #8 private key`);
  }
}

/** Reads a file of the simulator directory as text; a missing or unreadable one is PROVIDER_FAILED. */
export function readSimulatorFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new VeriteeError(ErrorCode.PROVIDER_FAILED, `cannot read simulator file ${path}`, {
      details: (error as NodeJS.ErrnoException).code ?? 'read error',
    });
  }
}

/** Loads the simulator root from `dir`, generating it on first use when `create` is set. */
export function loadSimulatorRoot(dir = simulatorDir(), create = true): SimulatorRoot {
  const certPath = join(dir, SIM_ROOT_CERT);
  const keyPath = join(dir, SIM_ROOT_KEY);
  if (!existsSync(certPath)) {
    if (!create) {
      throw new VeriteeError(ErrorCode.PROVIDER_UNAVAILABLE, `no simulator root in ${dir}`, {
        details: 'run the simulator once (veritee serve --provider sim) to create it',
      });
    }
    try {
      generateRoot(dir);
    } catch (error) {
      // Another process may have created it at the same time; use theirs if it is there now.
      if (!existsSync(certPath)) {
        throw new VeriteeError(ErrorCode.PROVIDER_FAILED, `cannot create the simulator root in ${dir}`, {
          details: (error as NodeJS.ErrnoException).code ?? String(error),
        });
      }
    }
  }
  const [certificate] = parsePemCertificates(readFileSync(certPath, 'utf8'), certPath);
  if (certificate === undefined || !certificate.subject.includes(SIMULATOR_ORGANIZATION)) {
    throw new VeriteeError(ErrorCode.PROVIDER_FAILED, `${certPath} is not a veritee simulator root`);
  }
  const privateKey = readPrivateKey(keyPath);
  const commonName = /CN=([^,]+)/.exec(certificate.subject)?.[1] ?? 'veritee simulator root';
  return { dir, certificateDer: certificate.der, certificate, privateKey, commonName };
}

/**
 * The simulator's Nitro root as a trust anchor of kind `simulator`, for verifiers that choose to trust it
 * (`verify(bytes, {simulatorRoots: [anchor]})`). Reads only the public certificate; never creates one.
 * See {@link simulatorAnchors} for every root of the installation (Nitro and TDX).
 */
export async function simulatorAnchor(dir = simulatorDir()): Promise<TrustAnchor> {
  const certPath = join(dir, SIM_ROOT_CERT);
  if (!existsSync(certPath)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `no simulator root at ${certPath}`, {
      details: 'the simulator creates it on first use; pass the directory it used',
    });
  }
  return simulatorAnchorFromPem(readFileSync(certPath, 'utf8'), certPath);
}

/**
 * Every simulator root of the installation in `dir` — the Nitro root and the TDX PKI's root, whichever
 * exist — as trust anchors of kind `simulator` (`veritee connect --trust-sim`, `verify --trust-sim`).
 * Reads only public certificates; never creates one.
 */
export async function simulatorAnchors(dir = simulatorDir()): Promise<TrustAnchor[]> {
  const paths = SIM_ROOT_CERTS.map((file) => join(dir, file)).filter((path) => existsSync(path));
  if (paths.length === 0) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `no simulator root in ${dir}`, {
      details: `looked for ${SIM_ROOT_CERTS.join(', ')}; the simulator creates them on first use`,
    });
  }
  return Promise.all(paths.map((path) => simulatorAnchorFromPem(readFileSync(path, 'utf8'), path)));
}

/** A simulator trust anchor from a PEM certificate (e.g. copied from the enclave host). */
export async function simulatorAnchorFromPem(pem: string, name = 'simulator root'): Promise<TrustAnchor> {
  const [anchor] = await simulatorAnchorsFromPem(pem, name);
  return anchor!;
}

/** Simulator trust anchors from every certificate of a PEM file (e.g. the Nitro and TDX roots together). */
export async function simulatorAnchorsFromPem(pem: string, name = 'simulator root'): Promise<TrustAnchor[]> {
  const certificates = parsePemCertificates(pem, name);
  if (certificates.length === 0)
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `${name} holds no certificate`);
  return Promise.all(
    certificates.map(async (certificate) => {
      const anchor = await makeTrustAnchor(`SIMULATOR ${certificate.subject}`, certificate);
      return { ...anchor, kind: 'simulator' as const };
    }),
  );
}
