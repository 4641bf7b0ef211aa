/**
 * Simulated enclaves for the KMS drill, demo, benchmark and tests: evidence from the project's
 * simulator provider (a Nitro-format document signed by a simulator root, verifying as platform `sim`),
 * for an enclave whose PCR0 is the SHA-384 of the app it runs — as `veritee serve --provider sim`
 * measures an app. Nodes accept it only when they trust that root as a simulator root (`kms serve
 * --trust-sim <root>`, `NodeTrust.simulatorRoots`) and only under a release policy that lists `sim`.
 *
 * It is never hardware evidence, and creating one prints the simulator's warning.
 */
import { join } from 'node:path';
import { toHex } from '../../bytes.js';
import { defaultSimulatedMeasurements, simulatorProvider } from '../../runtime/providers/sim.js';
import { SIM_ROOT_CERT } from '../../runtime/sim/store.js';
import type { Attester } from '../client.js';

/** A release policy as owners publish it (the `veritee verify` policy language); a type, so it is Json. */
export type ReleasePolicyJson = {
  readonly platforms: readonly string[];
  readonly measurements: Readonly<Record<string, string>>;
};

export interface SimulatedApp {
  /** The simulator directory holding the root certificate and its key. */
  readonly simDir: string;
  /** The root certificate (PEM file) to give nodes as `--trust-sim`. */
  readonly rootCertificatePath: string;
  /** PCR0 (hex) of the approved app. */
  readonly pcr0: string;
  /** The release policy admitting exactly the approved app on the simulator: platform sim, PCR0–2. */
  readonly releasePolicy: ReleasePolicyJson;
  /** Evidence from a simulated enclave running `image` (default: the approved app). */
  attester(image?: Uint8Array): Attester;
}

/**
 * Simulated enclaves of the app `appBytes`, with the simulator root in `simDir` (created there on
 * first use). `warn` receives the simulator's warning, once.
 */
export function simulatedApp(options: {
  readonly simDir: string;
  readonly appBytes: Uint8Array;
  readonly warn: (message: string) => void;
}): SimulatedApp {
  const { simDir, appBytes } = options;
  const enclave = (image: Uint8Array, warn: (message: string) => void): Attester => {
    const provider = simulatorProvider({
      dir: simDir,
      measurements: defaultSimulatedMeasurements(image),
      warn,
    });
    return async (reportData) => (await provider.getEvidence(reportData)).evidence;
  };
  const approved = enclave(appBytes, options.warn);
  const measurements: Record<string, string> = {};
  for (const [index, value] of defaultSimulatedMeasurements(appBytes).pcrs)
    measurements[`pcr${index}`] = toHex(value);
  return {
    simDir,
    rootCertificatePath: join(simDir, SIM_ROOT_CERT),
    pcr0: measurements.pcr0!,
    releasePolicy: { platforms: ['sim'], measurements },
    attester: (image) => (image === undefined ? approved : enclave(image, () => {})),
  };
}
