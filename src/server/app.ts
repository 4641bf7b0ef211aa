/**
 * The verifier service as a Web `Request → Response` app (Hono): POST /v1/verify answers the
 * AttestationResult and an EAR JWT signed by the service key. Every failure is a JSON
 * `{error: {code, message}}` with a 4xx status and a stable code; nothing about a request body reaches
 * the logs.
 */

import type { Context } from 'hono';
import { Hono } from 'hono';
import { backend } from '#crypto';
import { decodeEvidenceInput, toBase64Url, toHex, utf8Encode } from '../bytes.js';
import { exportBundle } from '../collateral/bundle.js';
import { type CollateralStore, isCollateralKind } from '../collateral/types.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { signEar, toEar } from '../policy/ear.js';
import type { Policy } from '../policy/types.js';
import type { AttestationResult } from '../result.js';
import { readBodyLimited } from '../stream.js';
import { loadPolicy, verify } from '../verify.js';
import { VERSION } from '../version.js';
import { Metrics } from './metrics.js';
import { OPENAPI } from './openapi.js';
import { RateLimiter } from './rate-limit.js';

export interface ServiceLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface VerifierAppOptions {
  /** Private JWK (EC P-256/P-384 or Ed25519) that signs EARs. */
  readonly signingKey: JsonWebKey;
  readonly logger?: ServiceLogger;
  /** Maximum request body in bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Requests per second per client, and the burst. Default 50/s, burst 100. */
  readonly rateLimit?: { readonly rate: number; readonly burst: number };
  /** Per-request time limit in milliseconds. Default 10 s. */
  readonly timeoutMs?: number;
  /** How to identify a client for rate limiting (e.g. the socket address). Default: one shared bucket. */
  readonly clientOf?: (c: Context<ServiceEnv>) => string;
  /** Serves the explorer page and its assets: path → response, or undefined when not found. */
  readonly staticFiles?: (path: string) => Promise<Response | undefined>;
  /**
   * Relays verified collateral to clients (browsers): `GET /v1/collateral?kind=…&key=…` answers a
   * collateral bundle (docs/collateral.md) that the client verifies itself (`importBundle`).
   */
  readonly collateralStore?: CollateralStore;
}

/** Per-request values the logging middleware reports. */
export type ServiceEnv = { Variables: { platform?: string; verdict?: string; code?: string } };

const HTTP_STATUS: Partial<Record<string, number>> = {
  [ErrorCode.ARGUMENT_INVALID]: 400,
  [ErrorCode.POLICY_INVALID]: 400,
  [ErrorCode.REQUEST_TOO_LARGE]: 413,
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: 415,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.REQUEST_TIMEOUT]: 503,
};

function errorResponse(
  error: VeriteeError,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  const status = HTTP_STATUS[error.code] ?? 422;
  return Response.json(
    { error: { code: error.code, message: error.message }, ...extra },
    { status, headers },
  );
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of the public part of `jwk`. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'EC'
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : jwk.kty === 'OKP'
        ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
        : undefined;
  if (members === undefined)
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'service key must be an EC or OKP JWK');
  return toBase64Url(backend.hash('SHA-256', utf8Encode(JSON.stringify(members))));
}

/** The public JWK (private members removed) with its kid. */
export function publicJwk(jwk: JsonWebKey): JsonWebKey & { kid: string } {
  const { d: _d, ...rest } = jwk;
  const alg = jwk.kty === 'OKP' ? 'EdDSA' : jwk.crv === 'P-384' ? 'ES384' : 'ES256';
  return { ...rest, kid: jwkThumbprint(jwk), alg, use: 'sig' };
}

function readBody(request: Request, limit: number): Promise<Uint8Array> {
  return readBodyLimited(
    request,
    limit,
    () => new VeriteeError(ErrorCode.REQUEST_TOO_LARGE, `request body over ${limit} bytes`),
  );
}

function parseAt(value: unknown): Date | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const date =
    typeof value === 'number' || (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))
      ? new Date(Math.round(Number(value) * 1000))
      : typeof value === 'string' &&
          /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i.test(value)
        ? new Date(value)
        : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '"at" must be RFC 3339 or Unix seconds');
  }
  return date;
}

interface VerifyRequest {
  readonly evidence: Uint8Array;
  readonly at: Date | undefined;
  readonly policy: Policy | undefined;
  readonly policyId: string | undefined;
  readonly collateral: unknown;
}

function parseJsonRequest(body: Uint8Array): VerifyRequest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'request body is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'request body must be a JSON object');
  }
  const fields = json as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!['evidence', 'collateral', 'policy', 'at'].includes(key)) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `unknown request field "${key}"`);
    }
  }
  if (typeof fields.evidence !== 'string' || fields.evidence.length === 0) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '"evidence" must be a non-empty base64 or hex string');
  }
  const evidence = decodeEvidenceInput(utf8Encode(fields.evidence));
  const policy = fields.policy === undefined ? undefined : loadPolicy(fields.policy);
  const policyId =
    fields.policy === undefined
      ? undefined
      : `sha256:${toHex(backend.hash('SHA-256', utf8Encode(JSON.stringify(fields.policy))))}`;
  return { evidence, at: parseAt(fields.at), policy, policyId, collateral: fields.collateral };
}

async function parseVerifyRequest(c: Context<ServiceEnv>, limit: number): Promise<VerifyRequest> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/octet-stream') {
    throw new VeriteeError(
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      'send application/json or application/octet-stream',
    );
  }
  const body = await readBody(c.req.raw, limit);
  if (type === 'application/json') return parseJsonRequest(body);
  if (body.length === 0) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'request body is empty');
  return {
    evidence: body,
    at: parseAt(c.req.query('at')),
    policy: undefined,
    policyId: undefined,
    collateral: undefined,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new VeriteeError(ErrorCode.REQUEST_TIMEOUT, `request took longer than ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Builds the verifier service. */
export function createVerifierApp(options: VerifierAppOptions) {
  const limit = options.maxBodyBytes ?? 1024 * 1024;
  const limiter = new RateLimiter({ ...(options.rateLimit ?? { rate: 50, burst: 100 }) });
  const metrics = new Metrics();
  const jwks = { keys: [publicJwk(options.signingKey)] };
  const signingKey = { ...options.signingKey, kid: jwks.keys[0]!.kid };
  const app = new Hono<ServiceEnv>();

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath === '/*' ? 'static' : c.req.routePath;
    metrics.countRequest(route, c.res.status);
    options.logger?.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
        platform: c.get('platform'),
        verdict: c.get('verdict'),
        code: c.get('code'),
      },
      'request',
    );
  });

  app.post('/v1/verify', async (c) => {
    const wait = limiter.take(options.clientOf?.(c) ?? 'all');
    if (wait > 0) {
      c.set('code', ErrorCode.RATE_LIMITED);
      return errorResponse(
        new VeriteeError(ErrorCode.RATE_LIMITED, 'too many requests'),
        {},
        { 'retry-after': String(wait) },
      );
    }
    try {
      return await withTimeout(handleVerify(c), options.timeoutMs ?? 10_000);
    } catch (error) {
      if (!(error instanceof VeriteeError)) throw error;
      c.set('code', error.code);
      return errorResponse(error);
    }
  });

  async function handleVerify(c: Context<ServiceEnv>): Promise<Response> {
    const request = await parseVerifyRequest(c, limit);
    const started = performance.now();
    const result: AttestationResult = await verify(request.evidence, {
      at: request.at,
      policy: request.policy,
      collateral: request.collateral,
    });
    metrics.countVerification(result.platform, result.verdict, (performance.now() - started) / 1000);
    c.set('platform', result.platform);
    c.set('verdict', result.verdict);
    const ear = await signEar(
      toEar(result, { policyId: request.policyId, build: `veritee ${VERSION}` }),
      signingKey,
    );
    if (!result.verified) {
      const first = result.errors[0] ?? {
        code: ErrorCode.EVIDENCE_INVALID,
        message: 'evidence could not be verified',
      };
      c.set('code', first.code);
      return Response.json({ error: first, result, ear }, { status: 422 });
    }
    return Response.json({ result, ear });
  }

  const store = options.collateralStore;
  if (store !== undefined) {
    app.get('/v1/collateral', async (c) => {
      const kind = c.req.query('kind');
      const key = c.req.query('key');
      if (kind !== undefined && !isCollateralKind(kind)) {
        return errorResponse(new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'unknown collateral kind'));
      }
      if (key !== undefined && kind === undefined) {
        return errorResponse(new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'key needs kind'));
      }
      const items =
        kind === undefined
          ? await store.list()
          : key === undefined
            ? (await store.list()).filter((item) => item.kind === kind)
            : await store.versions(kind, key);
      if (items.length === 0)
        return errorResponse(new VeriteeError(ErrorCode.NOT_FOUND, 'no such collateral'));
      return new Response(new TextDecoder().decode(await exportBundle(store, new Date(), items)), {
        headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
      });
    });
  }

  app.get('/.well-known/jwks.json', (c) => c.json(jwks));
  app.get('/healthz', (c) => c.json({ status: 'ok', version: VERSION }));
  app.get('/metrics', (c) => c.text(metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4' }));
  app.get('/openapi.json', (c) => c.json(OPENAPI));
  app.get('/*', async (c) => {
    const response = await options.staticFiles?.(c.req.path);
    return response ?? errorResponse(new VeriteeError(ErrorCode.NOT_FOUND, `no route for GET ${c.req.path}`));
  });
  app.notFound((c) =>
    errorResponse(new VeriteeError(ErrorCode.NOT_FOUND, `no route for ${c.req.method} ${c.req.path}`)),
  );
  app.onError((error, c) => {
    options.logger?.error(
      { path: c.req.path, error: error instanceof Error ? error.name : 'unknown' },
      'unhandled error',
    );
    return Response.json({ error: { code: 'INTERNAL', message: 'internal error' } }, { status: 500 });
  });
  return { app, metrics, jwks };
}
