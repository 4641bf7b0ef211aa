/** `veritee release sign|verify|bundle` and `veritee log serve`: signed release records and their log. */
import { backend } from '#crypto';
import { toHex } from '../bytes.js';
import { ErrorCode, isVeriteeError, VeriteeError } from '../errors.js';
import { parseMeasurementsFile } from '../measure/measurements.js';
import {
  parseEnvelope,
  parseReleaseStatement,
  type ReleasePredicate,
  serializeEnvelope,
  signRelease,
  trustedKeyFromJwk,
  verifyRelease,
} from '../measure/release.js';
import {
  logEntryOf,
  parseReleaseBundle,
  releaseBundleToJson,
  verifyReleaseBundle,
} from '../measure/releases.js';
import { treeHeadFromJson } from '../measure/translog/checkpoint.js';
import { LogClient } from '../measure/translog/client.js';
import { EXIT, readInput, readJsonFile } from './io.js';
import type { CommandOutput } from './verify-command.js';

export interface ReleaseSignOptions {
  readonly key: string;
  readonly repository: string;
  readonly commit: string;
  readonly measurements: string;
  readonly recipe?: string;
  readonly recipeDigest?: string;
  readonly recipeUri?: string;
}

function argument(message: string): VeriteeError {
  return new VeriteeError(ErrorCode.ARGUMENT_INVALID, message);
}

/** Signs a release record; prints the DSSE envelope (one line of JSON). */
export async function runReleaseSign(options: ReleaseSignOptions): Promise<CommandOutput> {
  if ((options.recipe === undefined) === (options.recipeDigest === undefined)) {
    throw argument('give exactly one of --recipe <file> and --recipe-digest <sha256 hex>');
  }
  const digest =
    options.recipe !== undefined
      ? toHex(backend.hash('SHA-256', readInput(options.recipe, 'build recipe')))
      : options.recipeDigest!.toLowerCase();
  const measurements = parseMeasurementsFile(readJsonFile(options.measurements, 'measurements')).platforms;
  const predicate: ReleasePredicate = {
    repository: options.repository,
    commit: options.commit.toLowerCase(),
    buildRecipe: {
      digest: { sha256: digest },
      ...(options.recipeUri === undefined ? {} : { uri: options.recipeUri }),
    },
    measurements,
  };
  const envelope = await signRelease(predicate, readJsonFile(options.key, 'signing key') as JsonWebKey);
  return { stdout: `${serializeEnvelope(envelope)}\n`, stderr: '', exitCode: EXIT.accepted };
}

export interface ReleaseVerifyOptions {
  readonly signer: readonly string[];
  readonly repository?: string;
  readonly logKey?: string;
  readonly logOrigin?: string;
  readonly json?: boolean;
}

const UNUSABLE = new Set<string>([
  ErrorCode.FORMAT_UNKNOWN,
  ErrorCode.ARGUMENT_INVALID,
  ErrorCode.UNSUPPORTED,
  ErrorCode.KEY_INVALID,
  ErrorCode.POLICY_INVALID,
]);

/** Exit 2 for input that cannot be used, 1 for a record that is refused. */
export function exitCodeOfError(error: VeriteeError): number {
  return error.code.startsWith('PARSE_') || UNUSABLE.has(error.code) ? EXIT.unusable : EXIT.rejected;
}

/**
 * Verifies a release record (a DSSE envelope) or a release bundle (envelope + log proof) against trusted
 * signer keys; a bundle also needs the log's key and origin. Exit 0 verified, 1 refused, 2 unusable input.
 */
export async function runReleaseVerify(file: string, options: ReleaseVerifyOptions): Promise<CommandOutput> {
  if (options.signer.length === 0) throw argument('give at least one --signer <public JWK file>');
  const signers = options.signer.map((path) => trustedKeyFromJwk(readJsonFile(path, 'signer key'), path));
  const json = readJsonFile(file, 'release record');
  const isBundle = typeof json === 'object' && json !== null && 'envelope' in json;
  try {
    let summary: Record<string, unknown>;
    if (isBundle) {
      if (options.logKey === undefined || options.logOrigin === undefined)
        throw argument('a release bundle needs --log-key and --log-origin');
      const bundle = parseReleaseBundle(json);
      const repository = options.repository ?? parseReleaseRepository(bundle.envelope.payload);
      const release = await verifyReleaseBundle(bundle, {
        signers,
        repository,
        log: {
          origin: options.logOrigin,
          key: trustedKeyFromJwk(readJsonFile(options.logKey, 'log key'), options.logKey),
        },
      });
      summary = {
        verified: true,
        signer: release.signer,
        logIndex: release.logIndex,
        treeSize: release.treeHead.treeSize,
        ...release.predicate,
      };
    } else {
      const release = await verifyRelease(parseEnvelope(json), signers);
      if (options.repository !== undefined && release.predicate.repository !== options.repository) {
        throw new VeriteeError(ErrorCode.POLICY_VIOLATION, 'release record is for another repository', {
          details: release.predicate.repository,
        });
      }
      summary = { verified: true, signer: release.signer, logIndex: null, ...release.predicate };
    }
    const text = options.json ? JSON.stringify(summary) : formatRelease(summary);
    return { stdout: `${text}\n`, stderr: '', exitCode: EXIT.accepted };
  } catch (error) {
    if (!isVeriteeError(error)) throw error;
    const exitCode = exitCodeOfError(error);
    if (exitCode === EXIT.unusable) throw error;
    const text = options.json
      ? JSON.stringify({ verified: false, error: error.toJSON() })
      : `REFUSED: ${error.code}: ${error.message}`;
    return { stdout: `${text}\n`, stderr: '', exitCode };
  }
}

function parseReleaseRepository(payload: Uint8Array): string {
  return parseReleaseStatement(payload).predicate.repository;
}

function formatRelease(summary: Record<string, unknown>): string {
  const measurements = summary.measurements as Record<string, Record<string, string>>;
  const lines = [
    `VERIFIED release of ${summary.repository} @ ${summary.commit}`,
    `signer       ${summary.signer}`,
    `build recipe sha256:${(summary.buildRecipe as { digest: { sha256: string } }).digest.sha256}`,
    summary.logIndex === null
      ? 'log          (not checked: a bare envelope)'
      : `log          entry ${summary.logIndex} of ${summary.treeSize}, inclusion proven`,
    ...Object.entries(measurements).flatMap(([platform, registers]) =>
      Object.entries(registers).map(([name, value]) => `${`${platform}/${name}`.padEnd(12)} ${value}`),
    ),
  ];
  return lines.join('\n');
}

export interface ReleaseBundleOptions {
  readonly log: string;
  readonly logKey: string;
  readonly logOrigin: string;
  readonly submit?: boolean;
  /** A tree head trusted earlier (JSON file); the new one must be consistent with it. */
  readonly trusted?: string;
}

/** Submits (optionally) and proves a release record in a log; prints the bundle JSON. */
export async function runReleaseBundle(file: string, options: ReleaseBundleOptions): Promise<CommandOutput> {
  const envelope = parseEnvelope(readInput(file, 'release record'));
  const key = trustedKeyFromJwk(readJsonFile(options.logKey, 'log key'), options.logKey);
  const trusted =
    options.trusted === undefined
      ? undefined
      : treeHeadFromJson(readJsonFile(options.trusted, 'trusted tree head'));
  const base = options.log.endsWith('/') ? options.log : `${options.log}/`;
  const client = new LogClient(base, { key, origin: options.logOrigin, trusted });
  if (options.submit) await client.submit(serializeEnvelope(envelope));
  await client.update();
  const signedHead = client.signedHead!;
  const proof = await client.prove(logEntryOf(envelope));
  return {
    stdout: `${JSON.stringify(releaseBundleToJson({ envelope, proof, treeHead: signedHead }))}\n`,
    stderr: '',
    exitCode: EXIT.accepted,
  };
}

export interface ReleaseSigstoreOptions {
  readonly trustedRoot: string;
  readonly identity?: string;
  readonly issuer?: string;
  /** `hint=path-to-PEM` entries for managed-key bundles. */
  readonly key?: readonly string[];
  readonly json?: boolean;
}

/**
 * Verifies a Sigstore bundle offline against a trusted root and prints its in-toto subjects (the
 * reference values it vouches for). Exit 0 verified, 1 refused, 2 unusable input.
 */
export async function runReleaseSigstore(
  file: string,
  options: ReleaseSigstoreOptions,
): Promise<CommandOutput> {
  const { verifySigstoreBundle } = await import('../measure/sigstore.js');
  if ((options.identity === undefined) !== (options.issuer === undefined))
    throw argument('give --identity and --issuer together');
  const publicKeys: Record<string, string> = {};
  for (const entry of options.key ?? []) {
    const at = entry.lastIndexOf('='); // base64 hints end in '='; paths do not contain it
    if (at <= 0) throw argument('--key takes hint=path-to-PEM');
    publicKeys[entry.slice(0, at)] = new TextDecoder().decode(readInput(entry.slice(at + 1), 'public key'));
  }
  const identity =
    options.identity === undefined
      ? undefined
      : { subjectAlternativeName: options.identity, issuer: options.issuer! };
  try {
    const result = verifySigstoreBundle(readJsonFile(file, 'Sigstore bundle'), {
      trustedRoot: readJsonFile(options.trustedRoot, 'trusted root'),
      identity,
      publicKeys,
      ...(identity === undefined ? { ctlogThreshold: 0 } : {}),
    });
    if (options.json)
      return {
        stdout: `${JSON.stringify({ verified: true, ...result })}\n`,
        stderr: '',
        exitCode: EXIT.accepted,
      };
    const lines = [
      `VERIFIED Sigstore bundle: ${result.predicateType}`,
      result.identity === undefined
        ? 'signer       managed key'
        : `signer       ${result.identity.subjectAlternativeName} (${result.identity.issuer})`,
      ...result.subjects.flatMap((subject) =>
        Object.entries(subject.digest).map(
          ([algorithm, value]) => `subject      ${subject.name} ${algorithm}:${value}`,
        ),
      ),
    ];
    return { stdout: `${lines.join('\n')}\n`, stderr: '', exitCode: EXIT.accepted };
  } catch (error) {
    if (!isVeriteeError(error)) throw error;
    if (exitCodeOfError(error) === EXIT.unusable) throw error;
    const text = options.json
      ? JSON.stringify({ verified: false, error: error.toJSON() })
      : `REFUSED: ${error.code}: ${error.message}`;
    return { stdout: `${text}\n`, stderr: '', exitCode: EXIT.rejected };
  }
}
