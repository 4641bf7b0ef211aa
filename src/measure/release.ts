/**
 * Release records: an in-toto Statement v1 in a DSSE envelope, signed with Ed25519 or ECDSA P-256, that
 * says "commit C of repository R, built with recipe D, yields these measurements".
 *
 * Sources (facts only):
 * - DSSE v1 (secure-systems-lab/dsse, `envelope.md`, `protocol.md`): envelope
 *   `{payloadType, payload: base64, signatures: [{keyid, sig: base64}]}`; signatures are over
 *   `PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, LEN in ASCII decimal.
 * - in-toto Attestation Framework, Statement v1 (`spec/v1/statement.md`): `_type`
 *   `https://in-toto.io/Statement/v1`, `subject` (name + digest set), `predicateType`, `predicate`;
 *   DSSE `payloadType` `application/vnd.in-toto+json`.
 *
 * The predicate (`https://veritee.dev/release/v1`):
 * `{repository, commit, buildRecipe: {digest: {sha256}}, measurements: {platform: {register: hex}}}`.
 * The subjects are exactly the measurements, one per register, named `platform/register`, with the
 * value as a digest (`sha384` for 48 bytes, `sha256` for 32, `sha512` for 64), so a statement can be
 * found by the measurement it vouches for; a statement whose subjects and predicate disagree is refused.
 *
 * ECDSA signatures are DER-encoded (as Sigstore and cosign write them); Ed25519 signatures are 64 bytes.
 * `keyid` is `sha256:` + hex SHA-256 of the signer's SubjectPublicKeyInfo. Verification only ever uses
 * keys the caller passes: a key id in the envelope selects among them (an empty one tries them all); it is
 * never trusted by itself.
 */
import { backend } from '#crypto';
import { fromBase64, toBase64, utf8Decode, utf8Encode } from '../bytes.js';
import { ErrorCode, VeriteeError, wrapErrorsAsync } from '../errors.js';
import type { Platform } from '../result.js';
import { releaseKeyScheme, type TrustedKey, trustedKeyFromJwk } from './keys.js';
import { type PlatformMeasurements, parsePlatformMeasurements } from './measurements.js';

export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const RELEASE_PREDICATE_TYPE = 'https://veritee.dev/release/v1';
/** Bounds on hostile input. */
export const MAX_ENVELOPE_BYTES = 1 << 20;
export const MAX_SIGNATURES = 16;

export interface DsseSignature {
  readonly keyid: string;
  readonly sig: Uint8Array;
}

export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signatures: readonly DsseSignature[];
}

export interface ReleasePredicate {
  /** Source repository URL, e.g. `https://github.com/org/app`. */
  readonly repository: string;
  /** Commit id (40 or 64 lowercase hex). */
  readonly commit: string;
  readonly buildRecipe: { readonly digest: { readonly sha256: string }; readonly uri?: string | undefined };
  readonly measurements: PlatformMeasurements;
}

export interface Subject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

export interface ReleaseStatement {
  readonly subject: readonly Subject[];
  readonly predicate: ReleasePredicate;
}

export interface VerifiedRelease extends ReleaseStatement {
  /** Key id (`sha256:…`) of the trusted key whose signature verified. */
  readonly signer: string;
  /** The exact envelope bytes' statement (payload), for logging and hashing. */
  readonly payload: Uint8Array;
}

function invalid(message: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, message, { path });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key))
      throw new VeriteeError(ErrorCode.PARSE_UNKNOWN_FIELD, `unknown field "${key}"`, {
        path: `${path}/${key}`,
      });
  }
}

function text(value: unknown, path: string): string {
  if (typeof value !== 'string')
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'must be a string', { path });
  return value;
}

function parseJson(bytes: Uint8Array, path: string): unknown {
  const source = utf8Decode(bytes, path);
  try {
    return JSON.parse(source);
  } catch (error) {
    throw new VeriteeError(ErrorCode.PARSE_ENCODING, 'not valid JSON', {
      path,
      details: error instanceof Error ? error.message.slice(0, 120) : undefined,
    });
  }
}

// ---------------------------------------------------------------------------------------------------
// DSSE

/** DSSE v1 pre-authentication encoding. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = utf8Encode(payloadType);
  const head = utf8Encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/** Parses a DSSE envelope (JSON bytes or an already-parsed object). */
export function parseEnvelope(input: Uint8Array | unknown): DsseEnvelope {
  const path = 'dsse';
  let json = input;
  if (input instanceof Uint8Array) {
    if (input.length > MAX_ENVELOPE_BYTES) {
      throw new VeriteeError(
        ErrorCode.PARSE_LIMIT_EXCEEDED,
        `envelope larger than ${MAX_ENVELOPE_BYTES} bytes`,
        { path },
      );
    }
    json = parseJson(input, path);
  }
  if (!isObject(json))
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'envelope must be a JSON object', { path });
  onlyKeys(json, ['payloadType', 'payload', 'signatures'], path);
  const payloadType = text(json.payloadType, `${path}/payloadType`);
  const payload = fromBase64(text(json.payload, `${path}/payload`), `${path}/payload`);
  if (
    !Array.isArray(json.signatures) ||
    json.signatures.length === 0 ||
    json.signatures.length > MAX_SIGNATURES
  ) {
    throw invalid(`signatures must be a list of 1–${MAX_SIGNATURES}`, `${path}/signatures`);
  }
  const signatures = json.signatures.map((entry: unknown, i: number) => {
    const at = `${path}/signatures[${i}]`;
    if (!isObject(entry))
      throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'must be an object', { path: at });
    onlyKeys(entry, ['keyid', 'sig'], at);
    const keyid = entry.keyid === undefined ? '' : text(entry.keyid, `${at}/keyid`);
    return { keyid, sig: fromBase64(text(entry.sig, `${at}/sig`), `${at}/sig`) };
  });
  return { payloadType, payload, signatures };
}

export function serializeEnvelope(envelope: DsseEnvelope): string {
  return JSON.stringify({
    payloadType: envelope.payloadType,
    payload: toBase64(envelope.payload),
    signatures: envelope.signatures.map((s) => ({ keyid: s.keyid, sig: toBase64(s.sig) })),
  });
}

// ---------------------------------------------------------------------------------------------------
// Keys

export { keyIdOf, type TrustedKey, trustedKeyFromJwk } from './keys.js';

/** The public half of a private JWK (drops `d`). */
export function publicJwkOf(privateJwk: JsonWebKey): JsonWebKey {
  const { d: _d, key_ops: _ops, ...rest } = privateJwk;
  return rest;
}

// ---------------------------------------------------------------------------------------------------
// Statement

const HEX40_OR_64 = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;
const HEX64 = /^[0-9a-f]{64}$/;
const DIGEST_NAME: Record<number, string> = { 32: 'sha256', 48: 'sha384', 64: 'sha512' };

/** The subjects a predicate implies: one per measurement, sorted by name. */
export function subjectsOf(measurements: PlatformMeasurements): Subject[] {
  const out: Subject[] = [];
  for (const [platform, registers] of Object.entries(measurements)) {
    for (const [register, hex] of Object.entries(registers ?? {})) {
      out.push({ name: `${platform}/${register}`, digest: { [DIGEST_NAME[hex.length / 2]!]: hex } });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function parseRepository(value: unknown, path: string): string {
  const repository = text(value, path);
  if (
    !/^https:\/\/[A-Za-z0-9.-]+(?::\d+)?(?:\/[A-Za-z0-9._~-]+)+$/.test(repository) ||
    repository.length > 256
  ) {
    throw invalid(
      'repository must be an https URL without query or fragment, e.g. https://github.com/org/app',
      path,
    );
  }
  return repository;
}

function parsePredicate(value: unknown, path: string): ReleasePredicate {
  if (!isObject(value))
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'predicate must be an object', { path });
  onlyKeys(value, ['repository', 'commit', 'buildRecipe', 'measurements'], path);
  const repository = parseRepository(value.repository, `${path}/repository`);
  const commit = text(value.commit, `${path}/commit`);
  if (!HEX40_OR_64.test(commit))
    throw invalid('commit must be 40 or 64 lowercase hex digits', `${path}/commit`);
  const recipe = value.buildRecipe;
  if (!isObject(recipe))
    throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, 'buildRecipe is required', {
      path: `${path}/buildRecipe`,
    });
  onlyKeys(recipe, ['digest', 'uri'], `${path}/buildRecipe`);
  if (!isObject(recipe.digest))
    throw new VeriteeError(ErrorCode.PARSE_MISSING_FIELD, 'buildRecipe.digest is required', {
      path: `${path}/buildRecipe/digest`,
    });
  onlyKeys(recipe.digest, ['sha256'], `${path}/buildRecipe/digest`);
  const sha256 = text(recipe.digest.sha256, `${path}/buildRecipe/digest/sha256`);
  if (!HEX64.test(sha256))
    throw invalid('must be 64 lowercase hex digits', `${path}/buildRecipe/digest/sha256`);
  const uri = recipe.uri === undefined ? undefined : text(recipe.uri, `${path}/buildRecipe/uri`);
  const measurements = parsePlatformMeasurements(value.measurements, `${path}/measurements`);
  return {
    repository,
    commit,
    buildRecipe: { digest: { sha256 }, ...(uri === undefined ? {} : { uri }) },
    measurements,
  };
}

function parseSubjects(value: unknown, path: string): Subject[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('subject must be a non-empty list', path);
  return value.map((entry: unknown, i: number) => {
    const at = `${path}[${i}]`;
    if (!isObject(entry))
      throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'must be an object', { path: at });
    onlyKeys(entry, ['name', 'digest'], at);
    const name = text(entry.name, `${at}/name`);
    if (!isObject(entry.digest))
      throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'digest must be an object', {
        path: `${at}/digest`,
      });
    const digest: Record<string, string> = {};
    for (const [algorithm, hex] of Object.entries(entry.digest))
      digest[algorithm] = text(hex, `${at}/digest/${algorithm}`);
    return { name, digest };
  });
}

/** Parses and checks a release statement (the DSSE payload). */
export function parseReleaseStatement(payload: Uint8Array): ReleaseStatement {
  const path = 'statement';
  const json = parseJson(payload, path);
  if (!isObject(json))
    throw new VeriteeError(ErrorCode.PARSE_UNEXPECTED_TYPE, 'statement must be a JSON object', { path });
  onlyKeys(json, ['_type', 'subject', 'predicateType', 'predicate'], path);
  if (json._type !== STATEMENT_TYPE) throw invalid(`_type must be ${STATEMENT_TYPE}`, `${path}/_type`);
  if (json.predicateType !== RELEASE_PREDICATE_TYPE)
    throw invalid(`predicateType must be ${RELEASE_PREDICATE_TYPE}`, `${path}/predicateType`);
  const subject = parseSubjects(json.subject, `${path}/subject`);
  const predicate = parsePredicate(json.predicate, `${path}/predicate`);
  const implied = JSON.stringify(subjectsOf(predicate.measurements));
  const sorted = [...subject].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (JSON.stringify(sorted) !== implied) {
    throw invalid('subjects do not match the predicate measurements', `${path}/subject`);
  }
  return { subject, predicate };
}

/** Builds the statement JSON bytes for a predicate. */
export function buildReleaseStatement(predicate: ReleasePredicate): Uint8Array {
  const checked = parsePredicate(predicate, 'predicate');
  return utf8Encode(
    JSON.stringify({
      _type: STATEMENT_TYPE,
      subject: subjectsOf(checked.measurements),
      predicateType: RELEASE_PREDICATE_TYPE,
      predicate: checked,
    }),
  );
}

/** Signs a release predicate with a private JWK (Ed25519 or P-256) into a DSSE envelope. */
export async function signRelease(
  predicate: ReleasePredicate,
  privateJwk: JsonWebKey,
): Promise<DsseEnvelope> {
  const signer = trustedKeyFromJwk(publicJwkOf(privateJwk), 'signing key');
  const payload = buildReleaseStatement(predicate);
  const sig = await wrapErrorsAsync(ErrorCode.KEY_INVALID, 'cannot sign with this key', () =>
    backend.sign(privateJwk, releaseKeyScheme(signer.key), pae(DSSE_PAYLOAD_TYPE, payload)),
  );
  return { payloadType: DSSE_PAYLOAD_TYPE, payload, signatures: [{ keyid: signer.keyid, sig }] };
}

/**
 * Verifies an envelope against trusted keys: the payload type must be in-toto, at least one signature
 * must verify under one of `keys` (matched by key id), and the statement must be a valid release record.
 * Throws SIG_INVALID when no trusted key signed it.
 */
export async function verifyRelease(
  envelope: DsseEnvelope,
  keys: readonly TrustedKey[],
): Promise<VerifiedRelease> {
  if (envelope.payloadType !== DSSE_PAYLOAD_TYPE) {
    throw invalid(`payloadType must be ${DSSE_PAYLOAD_TYPE}`, 'dsse/payloadType');
  }
  if (keys.length === 0) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'no trusted release keys given');
  const message = pae(envelope.payloadType, envelope.payload);
  let signer: string | undefined;
  for (const signature of envelope.signatures) {
    // DSSE makes keyid optional: an empty one is tried against every trusted key.
    const candidates =
      signature.keyid === '' ? keys : keys.filter((candidate) => candidate.keyid === signature.keyid);
    for (const key of candidates) {
      if (await backend.verify(key.key, releaseKeyScheme(key.key), message, signature.sig)) {
        signer = key.keyid;
        break;
      }
    }
    if (signer !== undefined) break;
  }
  if (signer === undefined) {
    const ids = envelope.signatures.map((s) => s.keyid || '(none)').join(', ');
    throw new VeriteeError(ErrorCode.SIG_INVALID, 'release record is not signed by a trusted key', {
      path: 'dsse/signatures',
      details: `signed by ${ids}`,
    });
  }
  return { ...parseReleaseStatement(envelope.payload), signer, payload: envelope.payload };
}

/** True when the release lists every given measurement of `platform` with the same value. */
export function releaseCovers(
  release: ReleaseStatement,
  platform: Platform,
  measurements: Readonly<Record<string, string>>,
): boolean {
  const listed = release.predicate.measurements[platform];
  if (listed === undefined) return false;
  const entries = Object.entries(listed);
  return entries.length > 0 && entries.every(([register, value]) => measurements[register] === value);
}
