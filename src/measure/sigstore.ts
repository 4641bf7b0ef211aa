/**
 * Sigstore bundles as a source of reference values (e.g. a GitHub Actions build provenance), verified
 * offline against a trusted root the caller supplies. Node-only (the Sigstore verifier uses node:crypto).
 *
 * Why not `sigstore.verify()` from the `sigstore` package: it always obtains the trusted root through
 * TUF (`@sigstore/tuf` `getTrustedRoot`: the network, or a TUF cache pre-populated with signed TUF
 * metadata and `tufForceCache`), so it cannot take a trusted root as input. This module runs the same
 * verifier the package runs after TUF — `@sigstore/verify` (`toTrustMaterial`, `Verifier`,
 * `toSignedEntity`), `@sigstore/bundle` (`bundleFromJSON`) and `@sigstore/protobuf-specs`
 * (`TrustedRoot.fromJSON`), all from the sigstore-js project — with the caller's trusted root and no I/O.
 *
 * Checks (by @sigstore/verify): the bundle's signature (DSSE or message signature), the Fulcio
 * certificate chain to a CA in the trusted root at the signing time (or a trusted public key for
 * managed-key bundles), SCTs (`ctlogThreshold`), transparency-log entries and their inclusion proofs or
 * promises (`tlogThreshold`), RFC 3161 timestamps (`tsaThreshold`), and the identity policy
 * (certificate SAN and OIDC issuer). veritee then parses the in-toto statement from the DSSE payload.
 */
import { createPublicKey } from 'node:crypto';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { ErrorCode, VeriteeError } from '../errors.js';

export interface SigstoreIdentity {
  /** Certificate SAN: for GitHub Actions, the workflow URL with its ref. */
  readonly subjectAlternativeName: string;
  /** OIDC issuer, e.g. `https://token.actions.githubusercontent.com`. */
  readonly issuer: string;
}

export interface SigstoreVerifyOptions {
  /** Trusted root JSON (`application/vnd.dev.sigstore.trustedroot+json`). */
  readonly trustedRoot: unknown;
  /** Required signer identity for keyless (Fulcio) bundles. */
  readonly identity?: SigstoreIdentity | undefined;
  /** Public keys (PEM) by hint, for managed-key bundles. */
  readonly publicKeys?: Readonly<Record<string, string>> | undefined;
  /** Thresholds; defaults: 1 transparency-log entry, 1 SCT for certificates, 0 RFC 3161 timestamps. */
  readonly tlogThreshold?: number;
  readonly ctlogThreshold?: number;
  readonly tsaThreshold?: number;
}

export interface InTotoSubject {
  readonly name: string;
  readonly digest: Readonly<Record<string, string>>;
}

export interface VerifiedSigstoreBundle {
  readonly predicateType: string;
  readonly subjects: readonly InTotoSubject[];
  readonly predicate: unknown;
  /** The verified signer identity (keyless) or undefined (managed key). */
  readonly identity: SigstoreIdentity | undefined;
}

function failure(error: unknown): VeriteeError {
  const message = error instanceof Error ? error.message.slice(0, 300) : String(error);
  const code = (error as { code?: string }).code;
  return new VeriteeError(ErrorCode.SIG_INVALID, 'Sigstore bundle does not verify', {
    path: 'sigstore',
    details: code === undefined ? message : `${code}: ${message}`,
    cause: error,
  });
}

function parseStatement(payload: Buffer): Omit<VerifiedSigstoreBundle, 'identity'> {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new VeriteeError(ErrorCode.PARSE_ENCODING, 'DSSE payload is not JSON', {
      path: 'sigstore/dsseEnvelope/payload',
    });
  }
  const statement = json as {
    _type?: unknown;
    subject?: unknown;
    predicateType?: unknown;
    predicate?: unknown;
  };
  if (
    statement._type !== 'https://in-toto.io/Statement/v1' &&
    statement._type !== 'https://in-toto.io/Statement/v0.1'
  ) {
    throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'payload is not an in-toto statement', {
      path: 'sigstore/statement/_type',
    });
  }
  if (!Array.isArray(statement.subject) || typeof statement.predicateType !== 'string') {
    throw new VeriteeError(
      ErrorCode.PARSE_INVALID_VALUE,
      'in-toto statement needs subject and predicateType',
      { path: 'sigstore/statement' },
    );
  }
  const subjects = statement.subject.map((subject: unknown, i: number) => {
    const entry = subject as { name?: unknown; digest?: unknown };
    if (typeof entry.name !== 'string' || typeof entry.digest !== 'object' || entry.digest === null) {
      throw new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, 'subject needs name and digest', {
        path: `sigstore/statement/subject[${i}]`,
      });
    }
    const digest = Object.fromEntries(Object.entries(entry.digest).map(([k, v]) => [k, String(v)]));
    return { name: entry.name, digest };
  });
  return { predicateType: statement.predicateType, subjects, predicate: statement.predicate };
}

/**
 * Verifies a Sigstore bundle (JSON) offline and returns its in-toto statement. Throws SIG_INVALID when
 * verification fails (any error of the Sigstore libraries, including their own bugs, becomes typed).
 */
export function verifySigstoreBundle(
  bundleJson: unknown,
  options: SigstoreVerifyOptions,
): VerifiedSigstoreBundle {
  let trust: ReturnType<typeof toTrustMaterial>;
  try {
    const keys = options.publicKeys ?? {};
    trust = toTrustMaterial(TrustedRoot.fromJSON(options.trustedRoot), (hint) => {
      const pem = keys[hint];
      if (pem === undefined) throw new Error(`no trusted public key for hint ${hint}`);
      return { publicKey: createPublicKey(pem), validFor: () => true };
    });
  } catch (error) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'unusable Sigstore trusted root', {
      details: String(error).slice(0, 200),
    });
  }
  let entity: ReturnType<typeof toSignedEntity>;
  let bundle: ReturnType<typeof bundleFromJSON>;
  try {
    bundle = bundleFromJSON(bundleJson);
    entity = toSignedEntity(bundle);
  } catch (error) {
    throw new VeriteeError(ErrorCode.PARSE_MALFORMED, 'not a Sigstore bundle', {
      path: 'sigstore',
      details: String(error).slice(0, 200),
    });
  }
  if (bundle.content.$case !== 'dsseEnvelope') {
    throw new VeriteeError(ErrorCode.UNSUPPORTED, 'only DSSE (attestation) bundles carry reference values', {
      path: 'sigstore',
    });
  }
  const verifier = new Verifier(trust, {
    tlogThreshold: options.tlogThreshold ?? 1,
    ctlogThreshold: options.ctlogThreshold ?? 1,
    tsaThreshold: options.tsaThreshold ?? 0,
  });
  const keyless = bundle.verificationMaterial.content.$case !== 'publicKey';
  if (keyless && options.identity === undefined) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      'a keyless bundle needs an expected identity (SAN and issuer)',
    );
  }
  let signer: ReturnType<Verifier['verify']>;
  try {
    signer = verifier.verify(
      entity,
      keyless
        ? {
            subjectAlternativeName: options.identity!.subjectAlternativeName,
            extensions: { issuer: options.identity!.issuer },
          }
        : undefined,
    );
  } catch (error) {
    throw failure(error);
  }
  const identity =
    signer.identity?.subjectAlternativeName === undefined
      ? undefined
      : {
          subjectAlternativeName: signer.identity.subjectAlternativeName,
          issuer: signer.identity.extensions?.issuer ?? '',
        };
  return { ...parseStatement(bundle.content.dsseEnvelope.payload), identity };
}
