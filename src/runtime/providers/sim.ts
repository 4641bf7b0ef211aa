/**
 * The simulator provider: real-format evidence — a Nitro attestation document, or an Intel TDX quote v4
 * with its DCAP collateral — signed by the installation's development roots. It exists for local
 * development with no TEE, and says so loudly; its evidence verifies only for a verifier that trusts the
 * roots as simulator roots, and then always as platform `sim`.
 */
import { join } from 'node:path';
import { utf8Encode } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { type SimulatedMeasurements, SimulatedNitro, sha384 } from '../sim/nitro.js';
import { loadSimulatorRoot, simulatorDir, writeAtomically } from '../sim/store.js';
import { type SimulatedCollateralJson, type SimulatedTdMeasurements, SimulatedTdx } from '../sim/tdx.js';
import { loadSimulatedIntelPki } from '../sim/tdx-pki.js';
import { checkReportData } from './check.js';
import type { EvidenceProvider } from './types.js';

/** The evidence formats the simulator imitates. */
export const SIMULATOR_FORMATS = ['nitro', 'tdx'] as const;
export type SimulatorFormat = (typeof SIMULATOR_FORMATS)[number];

/** Where the TDX simulator keeps its current collateral (dcap-qvl JSON, `veritee verify --collateral`). */
export const SIM_TDX_COLLATERAL = 'tdx-collateral.json';
/** Intel reissues collateral daily; so does the simulator (each set is valid for 30 days). */
const COLLATERAL_REISSUE_MS = 24 * 3600 * 1000;

export interface SimulatorProviderOptions {
  /** Where the development roots live (default: see `simulatorDir`). */
  readonly dir?: string;
  /** `nitro` (default): a Nitro attestation document; `tdx`: an Intel TDX quote v4 with collateral. */
  readonly format?: SimulatorFormat;
  /** Simulated PCRs (Nitro); default PCR0 = SHA-384("veritee simulator"), PCR1/2 fixed labels. */
  readonly measurements?: SimulatedMeasurements;
  /** Simulated MRTD and RTMRs (TDX); default see `defaultSimulatedTdMeasurements`. */
  readonly tdMeasurements?: SimulatedTdMeasurements;
  /** Where to print the warning; default stderr. Pass `() => {}` to silence it in tests. */
  readonly warn?: (message: string) => void;
}

export const SIMULATOR_WARNING =
  'veritee: *** SIMULATOR *** no TEE in use: evidence is signed by a local development root, is NOT ' +
  'real hardware, and verifies only for verifiers that trust this simulator root explicitly';

/** Default simulated measurements: fixed, non-zero (all-zero PCR0–2 would read as a debug enclave). */
export function defaultSimulatedMeasurements(appBytes?: Uint8Array): SimulatedMeasurements {
  return {
    pcrs: new Map([
      [0, sha384(appBytes ?? 'veritee simulator')],
      [1, sha384('veritee simulator kernel')],
      [2, sha384('veritee simulator application')],
    ]),
  };
}

/** Default simulated TD measurements: MRTD = SHA-384 of the app (or a label), RTMR0–3 fixed labels. */
export function defaultSimulatedTdMeasurements(appBytes?: Uint8Array): SimulatedTdMeasurements {
  return {
    mrtd: sha384(appBytes ?? 'veritee simulator'),
    rtmr: [
      sha384('veritee simulator firmware'),
      sha384('veritee simulator kernel'),
      sha384('veritee simulator kernel command line'),
      sha384('veritee simulator application'),
    ],
  };
}

function nitroProvider(dir: string, options: SimulatorProviderOptions): EvidenceProvider {
  const root = loadSimulatorRoot(dir, true);
  const nitro = new SimulatedNitro(root, options.measurements ?? defaultSimulatedMeasurements());
  return {
    name: 'sim',
    simulated: true,
    async getEvidence(reportData) {
      return { evidence: nitro.document(checkReportData(reportData)), platform: 'sim' };
    },
  };
}

function tdxProvider(dir: string, options: SimulatorProviderOptions): EvidenceProvider {
  const tdx = new SimulatedTdx(
    loadSimulatedIntelPki(dir, true),
    options.tdMeasurements ?? defaultSimulatedTdMeasurements(),
  );
  let current: { json: SimulatedCollateralJson; issued: number } | undefined;
  // Signs a fresh set when the current one is a day old, and keeps a copy next to the roots.
  const collateral = (): SimulatedCollateralJson => {
    const now = Date.now();
    if (current === undefined || now - current.issued >= COLLATERAL_REISSUE_MS) {
      current = { json: tdx.collateral({ now: new Date(now) }), issued: now };
      writeAtomically(join(dir, SIM_TDX_COLLATERAL), `${JSON.stringify(current.json, null, 1)}\n`, 0o644);
    }
    return current.json;
  };
  collateral();
  return {
    name: 'sim',
    simulated: true,
    async getEvidence(reportData) {
      return { evidence: tdx.quote(checkReportData(reportData)), platform: 'sim' };
    },
    async collateral() {
      return utf8Encode(JSON.stringify(collateral()));
    },
  };
}

export function simulatorProvider(options: SimulatorProviderOptions = {}): EvidenceProvider {
  const dir = options.dir ?? simulatorDir();
  const format = options.format ?? 'nitro';
  if (!SIMULATOR_FORMATS.includes(format)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `unknown simulator format "${String(format)}"`, {
      details: `one of ${SIMULATOR_FORMATS.join(', ')}`,
    });
  }
  const provider = format === 'tdx' ? tdxProvider(dir, options) : nitroProvider(dir, options);
  (options.warn ?? ((message: string) => process.stderr.write(`${message}\n`)))(
    `${SIMULATOR_WARNING} (format ${format}, roots in ${dir})`,
  );
  return provider;
}
