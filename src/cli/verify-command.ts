/** `veritee verify`: verify evidence, appraise it, print a report, JSON or an EAR. */
import { fileURLToPath } from 'node:url';
import { backend } from '#crypto';
import { toHex } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { expectedMeasurementChecks, parseMeasurementsFile, withChecks } from '../measure/measurements.js';
import { signEar, toEar } from '../policy/ear.js';
import { DEFAULT_POLICY } from '../policy/parse.js';
import type { Policy } from '../policy/types.js';
import type { AttestationResult } from '../result.js';
import { isUnusableInput, loadPolicy, verify } from '../verify.js';
import { VERSION } from '../version.js';
import { readCollateral } from './collateral.js';
import { isConfigured } from './collateral-cli.js';
import { EXIT, parseTime, readInput, readJsonFile } from './io.js';
import { formatReport } from './report.js';
import { type SimTrustOptions, simulatorRootsFor, withSimPlatform } from './sim-trust.js';

export interface VerifyCommandOptions extends SimTrustOptions {
  readonly at?: string;
  readonly policy?: string;
  /** Endorsements: a file or a folder (Intel DCAP: dcap-qvl JSON or PCS wire-format files). */
  readonly collateral?: string;
  readonly json?: boolean;
  readonly ear?: boolean;
  readonly earKey?: string;
  readonly earNames?: string;
  readonly demo?: boolean;
  /** SEV-SNP endorsements: VCEK/VLEK, ASK/ASVK (+ARK) chain, CRL files. */
  readonly vcek?: string;
  readonly chain?: string;
  readonly crl?: string;
  /** measurements.json: the evidence must show these values for its platform. */
  readonly expect?: string;
  /** Release bundles for the policy's `releases` section. */
  readonly release?: readonly string[];
  /** Collateral service and store (see collateral-config.ts). */
  readonly pcsUrl?: string;
  readonly kdsUrl?: string;
  readonly store?: string;
  readonly offline?: boolean;
  readonly update?: string;
}

/** Endorsements from the command line: Intel collateral (--collateral) or AMD files (--vcek/--chain/--crl). */
function collateralOf(options: VerifyCommandOptions): unknown {
  const amd = options.vcek !== undefined || options.chain !== undefined || options.crl !== undefined;
  if (options.collateral !== undefined) {
    if (amd)
      throw new VeriteeError(
        ErrorCode.ARGUMENT_INVALID,
        '--collateral (Intel) cannot be combined with --vcek/--chain/--crl (AMD)',
      );
    return readCollateral(options.collateral);
  }
  if (!amd) return undefined;
  return {
    ...(options.vcek === undefined ? {} : { vcek: readInput(options.vcek, 'VCEK') }),
    ...(options.chain === undefined ? {} : { chain: readInput(options.chain, 'certificate chain') }),
    ...(options.crl === undefined ? {} : { crl: readInput(options.crl, 'CRL') }),
  };
}

/** The bundled real document and the instant it was produced (see examples/nitro/README.md). */
const DEMO = {
  path: fileURLToPath(new URL('../../examples/nitro/marlin-aws-2024-12-13.cose', import.meta.url)),
  at: new Date('2024-12-13T07:37:58.960Z'),
};

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

function exitCodeOf(result: AttestationResult): number {
  if (isUnusableInput(result)) return EXIT.unusable;
  return result.verdict === 'contraindicated' ? EXIT.rejected : EXIT.accepted;
}

export function loadPolicyFile(path: string): { policy: Policy; id: string } {
  const bytes = readInput(path, 'policy');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new VeriteeError(ErrorCode.POLICY_INVALID, `policy "${path}" is not valid JSON`, {
      details: error instanceof Error ? error.message : undefined,
    });
  }
  return { policy: loadPolicy(json), id: `sha256:${toHex(backend.hash('SHA-256', bytes))}` };
}

/** Runs the command and returns what to print, so tests can call it without a process. */
/** The collateral store and resolver the options name (loaded only then: they bring the database drivers). */
async function openConfiguredCollateral(options: VerifyCommandOptions, progress: boolean) {
  const { openCollateral, Progress } = await import('./collateral-config.js');
  return openCollateral(options, new Progress(progress));
}

export async function runVerify(
  file: string | undefined,
  options: VerifyCommandOptions,
  color = false,
): Promise<CommandOutput> {
  if (options.json && options.ear)
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--json and --ear cannot be combined');
  if (options.earKey !== undefined && !options.ear)
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--ear-key needs --ear');
  if (options.earNames !== undefined && options.earNames !== 'dotted' && options.earNames !== 'underscore') {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--ear-names must be "dotted" or "underscore"');
  }
  if (options.demo && file !== undefined)
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--demo takes no evidence file');
  if (!options.demo && file === undefined)
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      'missing evidence: give a file, - for stdin, or --demo',
    );
  const input = readInput(options.demo ? DEMO.path : file!, 'evidence');
  const at = options.at !== undefined ? parseTime(options.at) : options.demo ? DEMO.at : new Date();
  const loaded = options.policy === undefined ? undefined : loadPolicyFile(options.policy);
  const policy = options.trustSim
    ? withSimPlatform(loaded?.policy ?? DEFAULT_POLICY, options)
    : loaded?.policy;
  const simulatorRoots = await simulatorRootsFor(options, policy ?? DEFAULT_POLICY);
  const collateral = collateralOf(options);
  const expected =
    options.expect === undefined
      ? undefined
      : parseMeasurementsFile(readJsonFile(options.expect, 'measurements')).platforms;
  const releases = (options.release ?? []).map((path) => readJsonFile(path, 'release bundle'));
  const context =
    collateral === undefined && isConfigured(options)
      ? await openConfiguredCollateral(options, process.stderr.isTTY === true && options.json !== true)
      : undefined;
  let verified: AttestationResult;
  try {
    verified = await verify(input, {
      at,
      policy,
      simulatorRoots,
      collateral,
      releases,
      collateralSource: context?.resolver,
    });
  } finally {
    await context?.close();
  }
  const result =
    expected === undefined ? verified : withChecks(verified, expectedMeasurementChecks(verified, expected));
  const exitCode = exitCodeOf(result);
  if (options.ear) {
    const claims = toEar(result, {
      names: options.earNames === 'underscore' ? 'underscore' : 'dotted',
      policyId: loaded?.id,
      build: `veritee ${VERSION}`,
    });
    const text =
      options.earKey === undefined
        ? JSON.stringify(claims, null, 2)
        : await signEar(claims, readJsonFile(options.earKey, 'EAR signing key') as JsonWebKey);
    return { stdout: `${text}\n`, stderr: '', exitCode };
  }
  if (options.json) return { stdout: `${JSON.stringify(result)}\n`, stderr: '', exitCode };
  const note = options.demo
    ? `(demo: bundled real document examples/nitro/marlin-aws-2024-12-13.cose, checked at its own timestamp)\n`
    : '';
  return { stdout: note + formatReport(result, color), stderr: '', exitCode };
}
