/**
 * EAR — EAT Attestation Results (draft-ietf-rats-ear) with AR4SI trustworthiness vectors
 * (draft-ietf-rats-ar4si): build a claim-set from an `AttestationResult`, sign it as a JWT, and parse and
 * verify EAR JWTs from any verifier. Both JSON claim-name generations are supported: the dotted names
 * (`ear.status`, draft -02 and every deployed verifier) and the underscore names (draft -03).
 */
import { backend } from '#crypto';
import { fromBase64, toBase64Url, utf8Decode, utf8Encode } from '../bytes.js';
import type { SignatureScheme } from '../crypto/types.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { AttestationResult, Verdict } from '../result.js';

/** eat_profile values (draft-ietf-rats-ear-02 §4, -03 §4, and veraison/ear). */
export const EAR_PROFILES = {
  veraison: 'tag:github.com,2023:veraison/ear',
  draft02: 'tag:ietf.org,2025-07:ear',
  draft03: 'tag:ietf.org,2026:rats/ear#03',
} as const;

export type EarNames = 'dotted' | 'underscore';

/** AR4SI trustworthiness claims (draft-ietf-rats-ar4si-06 §"Specific Claims"). */
export type TrustworthinessVector = Partial<
  Record<
    | 'instance-identity'
    | 'configuration'
    | 'executables'
    | 'file-system'
    | 'hardware'
    | 'runtime-opaque'
    | 'storage-opaque'
    | 'sourced-data',
    number
  >
>;

const VECTOR_CLAIMS = new Set([
  'instance-identity',
  'configuration',
  'executables',
  'file-system',
  'hardware',
  'runtime-opaque',
  'storage-opaque',
  'sourced-data',
]);
const STATUSES = new Set(['none', 'affirming', 'warning', 'contraindicated']);

export interface EarOptions {
  /** Verifier identity (`ear.verifier-id`). */
  readonly developer?: string;
  readonly build?: string;
  /** Claim-name generation. Default `dotted` (what deployed EAR consumers read). */
  readonly names?: EarNames;
  /** eat_profile; default: veraison's for dotted names, the -03 tag for underscore names. */
  readonly profile?: string;
  /** Issued-at, default now. */
  readonly iat?: Date;
  /** Seconds until `exp`; default: the result's validUntil when present. */
  readonly lifetimeSeconds?: number;
  /** Evidence to embed as `ear.raw-evidence`. */
  readonly rawEvidence?: Uint8Array;
  /** Policy identifier (e.g. `sha256:<hex of the policy file>`). */
  readonly policyId?: string;
  /** Nonce to echo as `eat_nonce` (draft-ietf-rats-eat §4.1). */
  readonly nonce?: string;
}

export type EarClaims = Record<string, unknown>;

// AR4SI value codes used below (draft-ietf-rats-ar4si-06, "Specific Claims").
const AR4SI = {
  recognized: 2,
  approvedBootOnly: 3,
  knownVulnerabilities: 32,
  unrecognizedExecutables: 33,
  contraindicated: 96,
  notRecognized: 97,
  cryptoFailed: 99,
} as const;

const TCB_WITH_VULNERABILITIES = new Set([
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
]);

function identityFromFailure(result: AttestationResult): number {
  const code = result.errors[0]?.code;
  if (code === ErrorCode.CHAIN_UNTRUSTED_ROOT) return AR4SI.notRecognized;
  if (code === ErrorCode.CERT_REVOKED) return AR4SI.contraindicated;
  return AR4SI.cryptoFailed;
}

/** Derives the AR4SI vector from a result. Claims the result says nothing about are left out. */
export function trustworthinessVector(result: AttestationResult): TrustworthinessVector {
  if (!result.verified) return { 'instance-identity': identityFromFailure(result) };
  const vector: TrustworthinessVector = { 'instance-identity': AR4SI.recognized };
  const failed = (prefix: string) => result.checks.some((check) => check.id.startsWith(prefix) && !check.ok);
  const ran = (prefix: string) => result.checks.some((check) => check.id.startsWith(prefix));

  if (result.platform === 'sim') vector.hardware = AR4SI.notRecognized;
  else if (result.tcb?.status === 'Revoked') vector.hardware = AR4SI.contraindicated;
  else if (result.tcb !== undefined && TCB_WITH_VULNERABILITIES.has(result.tcb.status))
    vector.hardware = AR4SI.knownVulnerabilities;
  else vector.hardware = AR4SI.recognized;

  if (ran('policy.measurement')) {
    vector.executables = failed('policy.measurement') ? AR4SI.unrecognizedExecutables : AR4SI.recognized;
  }
  if (result.debug) {
    vector.configuration = failed('policy.debug') ? AR4SI.contraindicated : AR4SI.knownVulnerabilities;
    vector['runtime-opaque'] = AR4SI.contraindicated;
  } else {
    vector.configuration = AR4SI.recognized;
    vector['runtime-opaque'] = AR4SI.recognized;
  }
  return vector;
}

function names(style: EarNames) {
  return style === 'dotted'
    ? {
        status: 'ear.status',
        vector: 'ear.trustworthiness-vector',
        verifier: 'ear.verifier-id',
        raw: 'ear.raw-evidence',
        policy: 'ear.appraisal-policy-id',
        ext: 'ear.veritee.',
      }
    : {
        status: 'ear_status',
        vector: 'ear_trustworthiness_vector',
        verifier: 'ear_verifier_id',
        raw: 'ear_raw_evidence',
        policy: 'ear_appraisal_policy_ids',
        ext: 'ear_veritee_',
      };
}

/** Builds an EAR claim-set with one submod named after the platform. */
export function toEar(result: AttestationResult, options: EarOptions = {}): EarClaims {
  const style = options.names ?? 'dotted';
  const n = names(style);
  const iat = Math.floor((options.iat ?? new Date()).getTime() / 1000);
  const submod: Record<string, unknown> = {
    [n.status]: result.verdict satisfies Verdict,
    [n.vector]: trustworthinessVector(result),
  };
  if (options.policyId !== undefined)
    submod[n.policy] = style === 'dotted' ? options.policyId : [options.policyId];
  submod[`${n.ext}measurements`] = result.measurements;
  if (result.tcb !== undefined) submod[`${n.ext}tcb`] = result.tcb;
  if (result.errors.length > 0) submod[`${n.ext}errors`] = result.errors;
  const claims: EarClaims = {
    eat_profile: options.profile ?? (style === 'dotted' ? EAR_PROFILES.veraison : EAR_PROFILES.draft03),
    iat,
    [n.verifier]: {
      developer: options.developer ?? 'https://github.com/veritee/veritee',
      build: options.build ?? 'veritee',
    },
    submods: { [result.platform]: submod },
  };
  if (style === 'underscore') claims.ear_status = result.verdict;
  const exp =
    options.lifetimeSeconds !== undefined
      ? iat + options.lifetimeSeconds
      : result.validUntil !== null
        ? Math.floor(Date.parse(result.validUntil) / 1000)
        : undefined;
  if (exp !== undefined) claims.exp = Math.max(exp, iat);
  if (options.rawEvidence !== undefined) claims[n.raw] = toBase64Url(options.rawEvidence);
  if (options.nonce !== undefined) claims.eat_nonce = options.nonce;
  return claims;
}

// JWS (RFC 7515) with the algorithms an EAR verifier should accept (RFC 7518 §3.4, RFC 8037 §3.1).
const JWS_SCHEMES: Record<string, SignatureScheme> = {
  ES256: { kind: 'ecdsa', hash: 'SHA-256', encoding: 'p1363' },
  ES384: { kind: 'ecdsa', hash: 'SHA-384', encoding: 'p1363' },
  EdDSA: { kind: 'ed25519' },
};

function algorithmFor(jwk: JsonWebKey): 'ES256' | 'ES384' | 'EdDSA' {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return 'ES384';
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  throw new VeriteeError(
    ErrorCode.ARGUMENT_INVALID,
    'EAR signing key must be an EC P-256/P-384 or Ed25519 JWK',
  );
}

/** Signs EAR claims as a compact JWT with a private JWK (ES256, ES384 or EdDSA, chosen by the key). */
export async function signEar(claims: EarClaims, privateJwk: JsonWebKey & { kid?: string }): Promise<string> {
  const alg = algorithmFor(privateJwk);
  const header: Record<string, string> = { alg, typ: 'JWT' };
  if (privateJwk.kid !== undefined) header.kid = privateJwk.kid;
  const signingInput = `${toBase64Url(utf8Encode(JSON.stringify(header)))}.${toBase64Url(utf8Encode(JSON.stringify(claims)))}`;
  const signature = await backend.sign(privateJwk, JWS_SCHEMES[alg]!, utf8Encode(signingInput));
  return `${signingInput}.${toBase64Url(signature)}`;
}

export interface VerifiedEar {
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: EarClaims;
  /** Which claim-name generation the token uses. */
  readonly names: EarNames;
  /** Submod name → status. */
  readonly statuses: Readonly<Record<string, string>>;
}

function earError(message: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.EVIDENCE_INVALID, message, { path });
}

function decodeSegment(segment: string, path: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(segment))
    throw new VeriteeError(ErrorCode.PARSE_ENCODING, 'JWT segment is not base64url', { path });
  return fromBase64(segment, path);
}

function parseJsonObject(bytes: Uint8Array, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(utf8Decode(bytes, path));
  } catch (error) {
    if (error instanceof VeriteeError) throw error;
    throw new VeriteeError(ErrorCode.PARSE_MALFORMED, 'JWT segment is not JSON', { path });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'JWT segment must be a JSON object', { path });
  }
  return value as Record<string, unknown>;
}

/** Checks an EAR claim-set's required members (draft-ietf-rats-ear §3, both name generations). */
export function validateEarClaims(claims: EarClaims): Pick<VerifiedEar, 'names' | 'statuses'> {
  if (typeof claims.eat_profile !== 'string') throw earError('EAR has no eat_profile', 'ear/eat_profile');
  if (typeof claims.iat !== 'number' || !Number.isFinite(claims.iat))
    throw earError('EAR has no numeric iat', 'ear/iat');
  const style: EarNames = 'ear.verifier-id' in claims ? 'dotted' : 'underscore';
  const n = names(style);
  const verifier = claims[n.verifier];
  if (typeof verifier !== 'object' || verifier === null)
    throw earError(`EAR has no ${n.verifier}`, `ear/${n.verifier}`);
  const { developer, build } = verifier as Record<string, unknown>;
  if (typeof developer !== 'string' || typeof build !== 'string') {
    throw earError('verifier id needs developer and build strings', `ear/${n.verifier}`);
  }
  const submods = claims.submods;
  if (typeof submods !== 'object' || submods === null || Object.keys(submods).length === 0) {
    throw earError('EAR has no submods', 'ear/submods');
  }
  const statuses: Record<string, string> = {};
  for (const [name, appraisal] of Object.entries(submods as Record<string, unknown>)) {
    const path = `ear/submods/${name}`;
    const record = (typeof appraisal === 'object' && appraisal !== null ? appraisal : {}) as Record<
      string,
      unknown
    >;
    const status = record[n.status];
    if (typeof status !== 'string' || !STATUSES.has(status))
      throw earError(`submod has no valid ${n.status}`, path);
    const vector = record[n.vector];
    if (vector !== undefined) validateVector(vector, `${path}/${n.vector}`);
    statuses[name] = status;
  }
  return { names: style, statuses };
}

function validateVector(vector: unknown, path: string): void {
  if (typeof vector !== 'object' || vector === null || Object.keys(vector).length === 0) {
    throw earError('trustworthiness vector must be a non-empty object', path);
  }
  for (const [claim, value] of Object.entries(vector)) {
    if (!VECTOR_CLAIMS.has(claim)) throw earError(`unknown trustworthiness claim "${claim}"`, path);
    if (!Number.isInteger(value) || (value as number) < -128 || (value as number) > 127) {
      throw earError(`${claim} must be an integer in -128..127`, path);
    }
  }
}

export interface VerifyEarOptions {
  /** Trusted verification keys (public JWKs). The token's own `jwk` header is never trusted. */
  readonly keys: readonly (JsonWebKey & { kid?: string })[];
  /** Time for `exp`/`nbf` checks; default now. */
  readonly at?: Date;
}

/** Parses and verifies an EAR JWT: structure, algorithm allow-list, signature, claims and expiry. */
export async function verifyEarJwt(token: string, options: VerifyEarOptions): Promise<VerifiedEar> {
  const parts = token.trim().split('.');
  if (parts.length !== 3 || parts.some((part) => part.length === 0)) {
    throw new VeriteeError(
      ErrorCode.PARSE_MALFORMED,
      `a JWT has 3 non-empty segments, found ${parts.length}`,
      { path: 'jwt' },
    );
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = parseJsonObject(decodeSegment(headerPart, 'jwt/header'), 'jwt/header');
  const alg = header.alg;
  const scheme = typeof alg === 'string' ? JWS_SCHEMES[alg] : undefined;
  if (scheme === undefined) {
    throw new VeriteeError(
      ErrorCode.SIG_ALGORITHM_UNSUPPORTED,
      `JWT alg ${JSON.stringify(alg)} is not accepted (ES256, ES384, EdDSA)`,
      { path: 'jwt/header/alg' },
    );
  }
  const claims = parseJsonObject(decodeSegment(payloadPart, 'jwt/payload'), 'jwt/payload');
  const signature = decodeSegment(signaturePart, 'jwt/signature');
  const candidates = options.keys.filter(
    (key) =>
      algorithmFor(key) === alg &&
      (header.kid === undefined || key.kid === undefined || key.kid === header.kid),
  );
  const signingInput = utf8Encode(`${headerPart}.${payloadPart}`);
  let verified = false;
  for (const jwk of candidates) {
    const key = backend.importJwk({ ...jwk, d: undefined });
    if (await backend.verify(key, scheme, signingInput, signature)) {
      verified = true;
      break;
    }
  }
  if (!verified)
    throw new VeriteeError(ErrorCode.SIG_INVALID, 'EAR signature does not verify with any trusted key', {
      path: 'jwt/signature',
    });
  const at = (options.at ?? new Date()).getTime() / 1000;
  if (typeof claims.exp === 'number' && at > claims.exp) {
    throw new VeriteeError(ErrorCode.EVIDENCE_TIME_INVALID, 'EAR has expired', {
      path: 'jwt/payload/exp',
      details: `exp ${new Date(claims.exp * 1000).toISOString()}`,
    });
  }
  if (typeof claims.nbf === 'number' && at < claims.nbf) {
    throw new VeriteeError(ErrorCode.EVIDENCE_TIME_INVALID, 'EAR is not valid yet', {
      path: 'jwt/payload/nbf',
    });
  }
  return { header, claims, ...validateEarClaims(claims) };
}
