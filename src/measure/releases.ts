/**
 * The `releases` policy section: accept a measurement when a release record signed by a trusted `signer`
 * for `repository` lists it, and the transparency `log` proves the record's inclusion.
 *
 * ```json
 * "releases": {
 *   "signer": { "kty": "OKP", "crv": "Ed25519", "x": "…" },          // one JWK or a list (any-of)
 *   "repository": "https://github.com/org/app",
 *   "log": { "origin": "example.com/releases", "publicKey": { …JWK… } }
 * }
 * ```
 *
 * The caller supplies release bundles (`{envelope, log: {proof, treeHead}}`, as `veritee release
 * bundle` writes them); appraisal never fetches anything. Each bundle is checked in this order: the tree
 * head's signature by the log key (SIG_INVALID), the envelope's inclusion under that head
 * (LOG_PROOF_INVALID), the record's signature by a trusted signer (SIG_INVALID), the repository
 * (POLICY_VIOLATION). Two bundles whose tree heads give one size two roots prove a fork (LOG_INCONSISTENT).
 * The evidence passes when one verified record lists every measurement it names for the evidence's platform.
 */
import { utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { AttestationResult, Check } from '../result.js';
import { withChecks } from './measurements.js';
import {
  type DsseEnvelope,
  parseEnvelope,
  releaseCovers,
  serializeEnvelope,
  type VerifiedRelease,
  verifyRelease,
} from './release.js';
import type { ReleasesPolicy } from './releases-policy.js';
import {
  type SignedTreeHead,
  type SignedTreeHeadJson,
  type TreeHead,
  treeHeadFromJson,
  treeHeadToJson,
  verifyTreeHead,
} from './translog/checkpoint.js';
import {
  checkConsistency,
  checkInclusion,
  type InclusionProof,
  type InclusionProofJson,
  inclusionProofFromJson,
  inclusionProofToJson,
} from './translog/client.js';

export interface ReleaseBundle {
  readonly envelope: DsseEnvelope;
  readonly proof: InclusionProof;
  readonly treeHead: SignedTreeHead;
}

export interface ReleaseBundleJson {
  readonly envelope: unknown;
  readonly log: { readonly proof: InclusionProofJson; readonly treeHead: SignedTreeHeadJson };
}

export interface LoggedRelease extends VerifiedRelease {
  readonly logIndex: number;
  readonly treeHead: TreeHead;
}

export { parseReleasesPolicy, RELEASES_SECTION, type ReleasesPolicy } from './releases-policy.js';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseReleaseBundle(json: unknown, path = 'bundle'): ReleaseBundle {
  if (!isObject(json))
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'release bundle must be an object', { path });
  for (const key of Object.keys(json)) {
    if (key !== 'envelope' && key !== 'log')
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown field "${key}"`, {
        path: `${path}/${key}`,
      });
  }
  const log = json.log;
  if (!isObject(log))
    throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, 'log {proof, treeHead} is required', {
      path: `${path}/log`,
    });
  for (const key of Object.keys(log)) {
    if (key !== 'proof' && key !== 'treeHead')
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown field "${key}"`, {
        path: `${path}/log/${key}`,
      });
  }
  return {
    envelope: parseEnvelope(json.envelope),
    proof: inclusionProofFromJson(log.proof, `${path}/log/proof`),
    treeHead: treeHeadFromJson(log.treeHead, `${path}/log/treeHead`),
  };
}

export function releaseBundleToJson(bundle: ReleaseBundle): ReleaseBundleJson {
  return {
    envelope: JSON.parse(serializeEnvelope(bundle.envelope)),
    log: { proof: inclusionProofToJson(bundle.proof), treeHead: treeHeadToJson(bundle.treeHead) },
  };
}

/** The bytes the log stores for an envelope: its canonical JSON (fixed key order, padded base64). */
export function logEntryOf(envelope: DsseEnvelope): Uint8Array {
  return utf8Encode(serializeEnvelope(envelope));
}

/** Verifies one bundle against the policy (see the module comment for the order of checks). */
export async function verifyReleaseBundle(
  bundle: ReleaseBundle,
  policy: ReleasesPolicy,
): Promise<LoggedRelease> {
  const head = await verifyTreeHead(bundle.treeHead, policy.log.key, policy.log.origin);
  checkInclusion(logEntryOf(bundle.envelope), bundle.proof, head);
  const release = await verifyRelease(bundle.envelope, policy.signers);
  if (release.predicate.repository !== policy.repository) {
    throw new VeriteeError(ErrorCode.POLICY_VIOLATION, 'release record is for another repository', {
      path: 'statement/predicate/repository',
      details: `${release.predicate.repository}, policy wants ${policy.repository}`,
    });
  }
  return { ...release, logIndex: bundle.proof.index, treeHead: head };
}

/** Checks that no two verified tree heads of the log disagree on the root of one size. */
function checkHeadsAgree(releases: readonly LoggedRelease[]): void {
  for (let i = 0; i < releases.length; i++) {
    for (let j = i + 1; j < releases.length; j++) {
      const a = releases[i]!.treeHead;
      const b = releases[j]!.treeHead;
      if (a.treeSize === b.treeSize) checkConsistency(a, b, []);
    }
  }
}

/**
 * Runs the `releases` checks on a result and returns it with them added (a failed check makes the
 * verdict contraindicated). Bundles are untrusted input: each must verify on its own.
 */
export async function appraiseReleases(
  result: AttestationResult,
  policy: ReleasesPolicy,
  bundles: readonly unknown[],
): Promise<AttestationResult> {
  if (!result.verified) return result;
  const checks: Check[] = [];
  const verified: LoggedRelease[] = [];
  for (const [i, json] of bundles.entries()) {
    try {
      const release = await verifyReleaseBundle(parseReleaseBundle(json, `releases[${i}]`), policy);
      verified.push(release);
      checks.push({
        id: `releases.record[${i}]`,
        ok: true,
        detail: `commit ${release.predicate.commit}, log entry ${release.logIndex} of ${release.treeHead.treeSize}`,
      });
    } catch (error) {
      const typed =
        error instanceof VeriteeError ? error : new VeriteeError(ErrorCode.EVIDENCE_INVALID, String(error));
      checks.push({ id: `releases.record[${i}]`, ok: false, detail: `${typed.code}: ${typed.message}` });
    }
  }
  try {
    checkHeadsAgree(verified);
  } catch (error) {
    checks.push({
      id: 'releases.log',
      ok: false,
      detail: `${(error as VeriteeError).code}: ${(error as Error).message}`,
    });
    return withChecks(result, checks);
  }
  const platform = result.platform;
  const match =
    platform === 'unknown'
      ? undefined
      : verified.find((release) => releaseCovers(release, platform, result.measurements));
  checks.push(
    match === undefined
      ? {
          id: 'releases.measurements',
          ok: false,
          detail:
            verified.length === 0
              ? 'no verified release record was given'
              : `no verified release of ${policy.repository} lists these ${platform} measurements`,
        }
      : {
          id: 'releases.measurements',
          ok: true,
          detail: `released by ${match.signer} as ${policy.repository}@${match.predicate.commit}`,
        },
  );
  return withChecks(result, checks);
}
