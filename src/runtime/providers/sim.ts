/**
 * The simulator provider: real-format evidence (a Nitro attestation document) signed by the
 * installation's development root. It exists for local development with no TEE, and says so loudly;
 * its evidence verifies only for a verifier that trusts the root as a simulator root, and then always
 * as platform `sim`.
 */
import { type SimulatedMeasurements, SimulatedNitro, sha384 } from '../sim/nitro.js';
import { loadSimulatorRoot, simulatorDir } from '../sim/store.js';
import { checkReportData } from './check.js';
import type { EvidenceProvider } from './types.js';

export interface SimulatorProviderOptions {
  /** Where the development root lives (default: see `simulatorDir`). */
  readonly dir?: string;
  /** Simulated PCRs; default PCR0 = SHA-384("veritee simulator"), PCR1/2 fixed labels. */
  readonly measurements?: SimulatedMeasurements;
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

export function simulatorProvider(options: SimulatorProviderOptions = {}): EvidenceProvider {
  const root = loadSimulatorRoot(options.dir ?? simulatorDir(), true);
  const nitro = new SimulatedNitro(root, options.measurements ?? defaultSimulatedMeasurements());
  (options.warn ?? ((message: string) => process.stderr.write(`${message}\n`)))(
    `${SIMULATOR_WARNING} (root: ${root.dir})`,
  );
  return {
    name: 'sim',
    simulated: true,
    async getEvidence(reportData) {
      return { evidence: nitro.document(checkReportData(reportData)), platform: 'sim' };
    },
  };
}
