/**
 * The `releases` policy section (what `releases.ts` appraises): trusted release signers, the repository
 * and the transparency log. Apart from the appraisal so a policy file can be loaded and checked without
 * loading the release-record and log-proof code.
 */
import { ErrorCode, VeriteeError } from '../errors.js';
import { type TrustedKey, trustedKeyFromJwk } from './keys.js';

export const RELEASES_SECTION = 'releases';

export interface ReleasesPolicy {
  readonly signers: readonly TrustedKey[];
  readonly repository: string;
  readonly log: { readonly origin: string; readonly key: TrustedKey };
}

function policyError(message: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.POLICY_INVALID, message, { path });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function policyKey(value: unknown, path: string): TrustedKey {
  try {
    return trustedKeyFromJwk(value, path);
  } catch (error) {
    throw policyError(
      `not a usable public key: ${error instanceof Error ? error.message : String(error)}`,
      path,
    );
  }
}

/** Validates the `releases` policy section (called by the policy loader). */
export function parseReleasesPolicy(value: unknown, path = `policy/${RELEASES_SECTION}`): ReleasesPolicy {
  if (!isObject(value)) throw policyError('must be an object {signer, repository, log}', path);
  for (const key of Object.keys(value)) {
    if (!['signer', 'repository', 'log'].includes(key))
      throw policyError(`unknown key "${key}"`, `${path}/${key}`);
  }
  const signerList = Array.isArray(value.signer) ? value.signer : [value.signer];
  if (value.signer === undefined || signerList.length === 0)
    throw policyError('signer is required (a public JWK or a list)', `${path}/signer`);
  const signers = signerList.map((jwk, i) => policyKey(jwk, `${path}/signer[${i}]`));
  if (typeof value.repository !== 'string' || !/^https:\/\/\S+$/.test(value.repository)) {
    throw policyError('repository must be an https URL', `${path}/repository`);
  }
  const log = value.log;
  if (!isObject(log)) throw policyError('log is required: {origin, publicKey}', `${path}/log`);
  for (const key of Object.keys(log)) {
    if (key !== 'origin' && key !== 'publicKey')
      throw policyError(`unknown key "${key}"`, `${path}/log/${key}`);
  }
  if (typeof log.origin !== 'string' || log.origin.length === 0)
    throw policyError('origin must be a non-empty string', `${path}/log/origin`);
  return {
    signers,
    repository: value.repository,
    log: { origin: log.origin, key: policyKey(log.publicKey, `${path}/log/publicKey`) },
  };
}
