/**
 * One error type for everything veritee rejects.
 *
 * Every failure carries a stable `code` that callers branch on, a short human message that says what
 * was wrong, and — where it applies — where: the field path, the byte offset, the certificate subject.
 * Messages never contain secrets; evidence bytes are never copied into them beyond short excerpts.
 */

/** Stable error codes. Add new ones at the end of their group; never rename or reuse one. */
export const ErrorCode = {
  // Input that cannot be parsed.
  PARSE_TRUNCATED: 'PARSE_TRUNCATED',
  PARSE_TRAILING_BYTES: 'PARSE_TRAILING_BYTES',
  PARSE_MALFORMED: 'PARSE_MALFORMED',
  PARSE_UNEXPECTED_TYPE: 'PARSE_UNEXPECTED_TYPE',
  PARSE_MISSING_FIELD: 'PARSE_MISSING_FIELD',
  PARSE_UNKNOWN_FIELD: 'PARSE_UNKNOWN_FIELD',
  PARSE_DUPLICATE_KEY: 'PARSE_DUPLICATE_KEY',
  PARSE_NON_CANONICAL: 'PARSE_NON_CANONICAL',
  PARSE_LIMIT_EXCEEDED: 'PARSE_LIMIT_EXCEEDED',
  PARSE_INVALID_VALUE: 'PARSE_INVALID_VALUE',
  PARSE_ENCODING: 'PARSE_ENCODING',
  FORMAT_UNKNOWN: 'FORMAT_UNKNOWN',
  UNSUPPORTED: 'UNSUPPORTED',

  // Signatures and keys.
  SIG_INVALID: 'SIG_INVALID',
  SIG_ALGORITHM_UNSUPPORTED: 'SIG_ALGORITHM_UNSUPPORTED',
  KEY_INVALID: 'KEY_INVALID',

  // Certificates and chains.
  CERT_MALFORMED: 'CERT_MALFORMED',
  CERT_EXPIRED: 'CERT_EXPIRED',
  CERT_NOT_YET_VALID: 'CERT_NOT_YET_VALID',
  CERT_REVOKED: 'CERT_REVOKED',
  CERT_NOT_CA: 'CERT_NOT_CA',
  CERT_KEY_USAGE: 'CERT_KEY_USAGE',
  CHAIN_UNTRUSTED_ROOT: 'CHAIN_UNTRUSTED_ROOT',
  CHAIN_BROKEN: 'CHAIN_BROKEN',
  CHAIN_TOO_LONG: 'CHAIN_TOO_LONG',
  CHAIN_EMPTY: 'CHAIN_EMPTY',
  ROOT_PIN_MISMATCH: 'ROOT_PIN_MISMATCH',

  // Revocation lists.
  CRL_INVALID: 'CRL_INVALID',
  CRL_EXPIRED: 'CRL_EXPIRED',
  CRL_NOT_YET_VALID: 'CRL_NOT_YET_VALID',
  CRL_ISSUER_MISMATCH: 'CRL_ISSUER_MISMATCH',

  // Endorsements / collateral.
  COLLATERAL_MISSING: 'COLLATERAL_MISSING',
  COLLATERAL_INVALID: 'COLLATERAL_INVALID',
  COLLATERAL_EXPIRED: 'COLLATERAL_EXPIRED',
  COLLATERAL_NOT_YET_VALID: 'COLLATERAL_NOT_YET_VALID',
  COLLATERAL_MISMATCH: 'COLLATERAL_MISMATCH',
  COLLATERAL_UNAVAILABLE: 'COLLATERAL_UNAVAILABLE',
  /** A collateral service served an item older than the one already stored (refused, not stored). */
  COLLATERAL_ROLLBACK: 'COLLATERAL_ROLLBACK',
  TCB_NO_MATCH: 'TCB_NO_MATCH',

  // Evidence content.
  EVIDENCE_INVALID: 'EVIDENCE_INVALID',
  EVIDENCE_TIME_INVALID: 'EVIDENCE_TIME_INVALID',

  // Policy files and appraisal.
  POLICY_INVALID: 'POLICY_INVALID',
  POLICY_VIOLATION: 'POLICY_VIOLATION',

  // Caller mistakes.
  ARGUMENT_INVALID: 'ARGUMENT_INVALID',

  // HTTP service.
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  RATE_LIMITED: 'RATE_LIMITED',
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  NOT_FOUND: 'NOT_FOUND',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',

  // The attested channel (Noise handshake, transport records, framing).
  CHANNEL_HANDSHAKE_FAILED: 'CHANNEL_HANDSHAKE_FAILED',
  CHANNEL_DECRYPT_FAILED: 'CHANNEL_DECRYPT_FAILED',
  CHANNEL_PROTOCOL: 'CHANNEL_PROTOCOL',
  CHANNEL_MESSAGE_TOO_LARGE: 'CHANNEL_MESSAGE_TOO_LARGE',
  CHANNEL_TRUNCATED: 'CHANNEL_TRUNCATED',
  CHANNEL_CLOSED: 'CHANNEL_CLOSED',
  CHANNEL_NONCE_EXHAUSTED: 'CHANNEL_NONCE_EXHAUSTED',
  CHANNEL_EVIDENCE_REJECTED: 'CHANNEL_EVIDENCE_REJECTED',
  CHANNEL_BINDING_MISMATCH: 'CHANNEL_BINDING_MISMATCH',
  CHANNEL_TIMEOUT: 'CHANNEL_TIMEOUT',

  // Evidence providers inside the TEE.
  PROVIDER_UNAVAILABLE: 'PROVIDER_UNAVAILABLE',
  PROVIDER_FAILED: 'PROVIDER_FAILED',
  PROVIDER_RACE: 'PROVIDER_RACE',

  // Transparency log and release records.
  /** An inclusion or consistency proof does not verify. */
  LOG_PROOF_INVALID: 'LOG_PROOF_INVALID',
  /** Two signed tree heads of one log cannot both be true (a fork or a rollback). */
  LOG_INCONSISTENT: 'LOG_INCONSISTENT',
  /** The log does not contain the record. */
  LOG_ENTRY_MISSING: 'LOG_ENTRY_MISSING',

  // Key-management nodes (veritee/kms).
  KMS_APP_UNKNOWN: 'KMS_APP_UNKNOWN',
  KMS_APP_EXISTS: 'KMS_APP_EXISTS',
  KMS_OWNER_SIGNATURE: 'KMS_OWNER_SIGNATURE',
  KMS_POLICY_VERSION: 'KMS_POLICY_VERSION',
  KMS_POLICY_REJECTED: 'KMS_POLICY_REJECTED',
  KMS_NONCE_UNKNOWN: 'KMS_NONCE_UNKNOWN',
  KMS_NONCE_REUSED: 'KMS_NONCE_REUSED',
  KMS_NONCE_EXPIRED: 'KMS_NONCE_EXPIRED',
  KMS_BINDING_MISMATCH: 'KMS_BINDING_MISMATCH',
  KMS_EPOCH_UNKNOWN: 'KMS_EPOCH_UNKNOWN',
  KMS_EPOCH_EXISTS: 'KMS_EPOCH_EXISTS',
  KMS_EPOCH_RETIRED: 'KMS_EPOCH_RETIRED',
  KMS_NODE_NOT_IN_SET: 'KMS_NODE_NOT_IN_SET',
  KMS_SHARE_CORRUPT: 'KMS_SHARE_CORRUPT',
  KMS_SHARE_INVALID: 'KMS_SHARE_INVALID',
  KMS_NOT_ENOUGH_SHARES: 'KMS_NOT_ENOUGH_SHARES',
  KMS_KEY_CHECK_FAILED: 'KMS_KEY_CHECK_FAILED',
  KMS_NODE_UNAVAILABLE: 'KMS_NODE_UNAVAILABLE',
  KMS_NODE_RESPONSE_INVALID: 'KMS_NODE_RESPONSE_INVALID',
  KMS_AUDIT_BROKEN: 'KMS_AUDIT_BROKEN',
  KMS_STORE_FAILED: 'KMS_STORE_FAILED',
  KMS_SEALED_INVALID: 'KMS_SEALED_INVALID',
  KMS_SEALED_ROLLBACK: 'KMS_SEALED_ROLLBACK',
  KMS_SEALED_VERSION: 'KMS_SEALED_VERSION',

  // The package itself.
  /** A part of the library loaded on first use (a platform's verifier, release appraisal) failed to load. */
  MODULE_UNAVAILABLE: 'MODULE_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface VeriteeErrorParameters {
  /** Field path inside the input, e.g. `payload/pcrs/3` or `cabundle[1]`. */
  readonly path?: string | undefined;
  /** Byte offset inside the input where the problem was found. */
  readonly offset?: number | undefined;
  /** Extra detail that is safe to show (never secrets). */
  readonly details?: string | undefined;
  readonly cause?: unknown;
}

/** The single error type veritee throws for rejected input, failed checks and bad arguments. */
export class VeriteeError extends Error {
  override readonly name = 'VeriteeError';
  readonly code: ErrorCode;
  /** The message without the location suffix. */
  readonly shortMessage: string;
  readonly path: string | undefined;
  readonly offset: number | undefined;
  readonly details: string | undefined;

  constructor(code: ErrorCode, shortMessage: string, parameters: VeriteeErrorParameters = {}) {
    super(
      formatMessage(shortMessage, parameters),
      parameters.cause === undefined ? undefined : { cause: parameters.cause },
    );
    this.code = code;
    this.shortMessage = shortMessage;
    this.path = parameters.path;
    this.offset = parameters.offset;
    this.details = parameters.details;
  }

  /** A copy of this error placed under a parent path (`outer/inner`). */
  within(parentPath: string): VeriteeError {
    const path = this.path === undefined ? parentPath : `${parentPath}/${this.path}`;
    return new VeriteeError(this.code, this.shortMessage, {
      path,
      offset: this.offset,
      details: this.details,
      cause: this.cause,
    });
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

function formatMessage(shortMessage: string, parameters: VeriteeErrorParameters): string {
  const where: string[] = [];
  if (parameters.path !== undefined) where.push(`at ${parameters.path}`);
  if (parameters.offset !== undefined) where.push(`offset ${parameters.offset}`);
  const location = where.length > 0 ? ` (${where.join(', ')})` : '';
  const details = parameters.details === undefined ? '' : `: ${parameters.details}`;
  return `${shortMessage}${location}${details}`;
}

export function isVeriteeError(value: unknown): value is VeriteeError {
  return value instanceof VeriteeError;
}

/**
 * Runs `fn` and turns any exception that is not a VeriteeError (one thrown from inside a library) into
 * one with the given code, so callers only ever see typed errors.
 */
export function wrapErrors<T>(code: ErrorCode, what: string, fn: () => T, path?: string): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof VeriteeError) throw error;
    throw new VeriteeError(code, what, { path, details: describeCause(error), cause: error });
  }
}

/** Async form of {@link wrapErrors}. */
export async function wrapErrorsAsync<T>(
  code: ErrorCode,
  what: string,
  fn: () => Promise<T>,
  path?: string,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof VeriteeError) throw error;
    throw new VeriteeError(code, what, { path, details: describeCause(error), cause: error });
  }
}

function describeCause(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 200);
  return String(error).slice(0, 200);
}
