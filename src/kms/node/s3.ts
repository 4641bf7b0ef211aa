/**
 * An S3-compatible blob store for sealed state (AWS S3, MinIO, Ceph RGW, Cloudflare R2, …): objects at
 * `<endpoint>/<bucket>/<prefix><sha256 hex>` (path-style addressing), requests signed with AWS
 * Signature Version 4 on node:crypto's HMAC-SHA256 and SHA-256.
 *
 * SigV4, as AWS documents it ("Authenticating Requests: Using the Authorization Header", S3 API
 * reference; "Signature Version 4 signing process", AWS General Reference):
 *
 *   CanonicalRequest = method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
 *   StringToSign     = "AWS4-HMAC-SHA256" \n amzDate \n scope \n hex(SHA-256(CanonicalRequest))
 *   scope            = yyyymmdd/region/service/aws4_request
 *   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, yyyymmdd), region), service), "aws4_request")
 *   Signature        = hex(HMAC(SigningKey, StringToSign))
 *
 * The blobs are sealed (AES-256-GCM under a key the store never sees) and content-addressed, so the
 * store is trusted for availability only: `SealedState` checks each blob's digest and catches a
 * rollback by the nodes' countersigned version (sealed.ts). Credentials never appear in errors.
 */
import { createHash, createHmac } from 'node:crypto';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { readBodyLimited } from '../../stream.js';
import type { BlobStore } from '../sealed.js';

export interface SigV4Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** Temporary credentials' token, sent (and signed) as `x-amz-security-token`. */
  readonly sessionToken?: string;
}

export interface SigV4Request {
  readonly method: string;
  readonly url: URL;
  /** Headers to sign; must include `host` and `x-amz-date` (yyyymmddThhmmssZ). */
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body (or `UNSIGNED-PAYLOAD`). */
  readonly payloadHash: string;
}

export interface SigV4Signature {
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signature: string;
  /** The `Authorization` header value. */
  readonly authorization: string;
}

const AMZ_DATE = /^(\d{8})T\d{6}Z$/;

const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** SigV4's UriEncode: every byte but A–Z a–z 0–9 - _ . ~ as %XX (upper-case hex); `/` kept in paths. */
function uriEncode(text: string, keepSlash: boolean): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(char) || (keepSlash && char === '/')) out += char;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The path as S3 signs it: each segment encoded once (S3 does not double-encode, unlike other services). */
function canonicalUri(url: URL): string {
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'SigV4: the URL path has a malformed %-escape');
  }
  return uriEncode(path === '' ? '/' : path, true);
}

function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams].map(([key, value]) => [uriEncode(key, false), uriEncode(value, false)]);
  pairs.sort(([a, x], [b, y]) => (a! < b! ? -1 : a! > b! ? 1 : x! < y! ? -1 : x! > y! ? 1 : 0));
  return pairs.map(([key, value]) => `${key}=${value}`).join('&');
}

/** Signs `request` (AWS SigV4, HMAC-SHA256) for `region` and `service`. */
export function signV4(
  request: SigV4Request,
  credentials: SigV4Credentials,
  scope: { readonly region: string; readonly service: string },
): SigV4Signature {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(request.headers)) {
    // Canonical header values: trimmed, inner runs of spaces collapsed to one.
    headers.set(name.toLowerCase(), value.trim().replace(/ +/g, ' '));
  }
  const amzDate = headers.get('x-amz-date') ?? '';
  const day = AMZ_DATE.exec(amzDate)?.[1];
  if (day === undefined || !headers.has('host')) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      'SigV4: host and x-amz-date (yyyymmddThhmmssZ) are required',
    );
  }
  const names = [...headers.keys()].sort();
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri(request.url),
    canonicalQuery(request.url),
    names.map((name) => `${name}:${headers.get(name)}\n`).join(''),
    signedHeaders,
    request.payloadHash,
  ].join('\n');
  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, credentialScope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), scope.region), scope.service),
    'aws4_request',
  );
  const signature = hmac(signingKey, stringToSign).toString('hex');
  return {
    canonicalRequest,
    stringToSign,
    signature,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${credentialScope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

/** `yyyymmddThhmmssZ` of `date` (UTC). */
export function amzDateOf(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export interface S3Location {
  readonly bucket: string;
  /** Empty, or ending in `/`. */
  readonly prefix: string;
}

// S3 bucket naming rules (S3 user guide, "Bucket naming rules"): 3–63 of a–z 0–9 . -, starting and
// ending with a letter or digit.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9._-]{1,200}$/;

/** Parses `s3://bucket[/prefix]`; the prefix is segments of letters, digits, `.`, `_` and `-`. */
export function parseS3Location(text: string): S3Location {
  const bad = (why: string) =>
    new VeriteeError(ErrorCode.ARGUMENT_INVALID, `blob store "${text.slice(0, 200)}": ${why}`, {
      details: 'expected s3://bucket or s3://bucket/prefix',
    });
  if (!text.startsWith('s3://')) throw bad('not an s3:// location');
  const [bucket = '', ...segments] = text.slice('s3://'.length).split('/');
  if (!BUCKET.test(bucket)) throw bad('bad bucket name');
  while (segments.at(-1) === '') segments.pop();
  for (const segment of segments) {
    if (!PREFIX_SEGMENT.test(segment) || segment === '.' || segment === '..')
      throw bad(`bad prefix segment "${segment.slice(0, 40)}"`);
  }
  return { bucket, prefix: segments.length === 0 ? '' : `${segments.join('/')}/` };
}

export interface S3BlobStoreOptions {
  readonly location: S3Location;
  /** Service endpoint, e.g. `https://s3.eu-west-1.amazonaws.com` or `http://127.0.0.1:9000`. */
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: SigV4Credentials;
  readonly fetch?: typeof fetch;
  /** Per-request timeout. Default 30 s. */
  readonly timeoutMs?: number;
  /** Largest blob read back. Default 256 MiB. */
  readonly maxBlobBytes?: number;
  /** Clock for the signature date (tests pin it). */
  readonly now?: () => Date;
}

/** Options from the environment: see `docs/kms.md#stores` for the variables. */
export function s3OptionsFromEnv(
  location: S3Location,
  env: NodeJS.ProcessEnv = process.env,
): S3BlobStoreOptions {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1';
  const accessKeyId = env.AWS_ACCESS_KEY_ID ?? '';
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY ?? '';
  if (accessKeyId === '' || secretAccessKey === '') {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'S3 blob store: no credentials', {
      details: 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones)',
    });
  }
  const endpointText = env.VERITEE_S3_ENDPOINT || `https://s3.${region}.amazonaws.com`;
  let endpoint: URL;
  try {
    endpoint = new URL(endpointText);
  } catch {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `VERITEE_S3_ENDPOINT "${endpointText.slice(0, 200)}" is not a URL`,
    );
  }
  if (endpoint.protocol !== 'https:' && endpoint.protocol !== 'http:') {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'VERITEE_S3_ENDPOINT must be http:// or https://');
  }
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  return { location, endpoint, region, credentials: { accessKeyId, secretAccessKey, sessionToken } };
}

const DIGEST = /^[0-9a-f]{64}$/;
const EMPTY_SHA256 = sha256Hex('');

export class S3BlobStore implements BlobStore {
  readonly #options: S3BlobStoreOptions;
  readonly #fetch: typeof fetch;

  constructor(options: S3BlobStoreOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  #url(digest: string): URL {
    if (!DIGEST.test(digest))
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'blob digest must be SHA-256 hex');
    const { endpoint, location } = this.#options;
    const base = endpoint.pathname.replace(/\/$/, '');
    return new URL(`${endpoint.origin}${base}/${location.bucket}/${location.prefix}${digest}`);
  }

  async #send(method: 'GET' | 'HEAD' | 'PUT', url: URL, body?: Uint8Array): Promise<Response> {
    const payloadHash = body === undefined ? EMPTY_SHA256 : sha256Hex(body);
    const headers: Record<string, string> = {
      host: url.host,
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': amzDateOf(this.#options.now?.() ?? new Date()),
    };
    if (this.#options.credentials.sessionToken !== undefined) {
      headers['x-amz-security-token'] = this.#options.credentials.sessionToken;
    }
    const { authorization } = signV4({ method, url, headers, payloadHash }, this.#options.credentials, {
      region: this.#options.region,
      service: 's3',
    });
    const { host: _host, ...sent } = headers; // fetch sets Host from the URL itself
    try {
      return await this.#fetch(url, {
        method,
        headers: { ...sent, authorization },
        body: body === undefined ? undefined : new Uint8Array(body),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 30_000),
      });
    } catch (error) {
      throw new VeriteeError(
        ErrorCode.KMS_STORE_FAILED,
        `S3 ${method} ${url.pathname}: endpoint unreachable`,
        {
          details: error instanceof Error ? error.name : undefined,
        },
      );
    }
  }

  /** The S3 error code of an error answer (XML `<Error><Code>…`), read bounded; undefined when none. */
  async #errorCode(response: Response): Promise<string | undefined> {
    const tooLarge = () => new VeriteeError(ErrorCode.KMS_STORE_FAILED, 'S3 error body too large');
    const text = await readBodyLimited(response, 64 * 1024, tooLarge).then(
      (bytes) => new TextDecoder().decode(bytes),
      () => '',
    );
    return /<Code>([A-Za-z0-9.]{1,64})<\/Code>/.exec(text)?.[1];
  }

  /** Keeps only the status and S3's error code: nothing of the body is echoed. */
  #failure(method: string, url: URL, status: number, code: string | undefined): VeriteeError {
    return new VeriteeError(ErrorCode.KMS_STORE_FAILED, `S3 ${method} ${url.pathname}: HTTP ${status}`, {
      details: code,
    });
  }

  /** Stores the blob unless an object of that digest is there already (HEAD, then PUT). */
  async put(digest: string, bytes: Uint8Array): Promise<void> {
    const url = this.#url(digest);
    const head = await this.#send('HEAD', url);
    if (head.ok) return;
    // A HEAD answer has no body: its 404 may be a missing bucket too, which the PUT then reports.
    if (head.status !== 404) throw this.#failure('HEAD', url, head.status, undefined);
    const response = await this.#send('PUT', url, bytes);
    if (!response.ok) throw this.#failure('PUT', url, response.status, await this.#errorCode(response));
    await response.body?.cancel();
  }

  /** The blob, or undefined when the store has no object of that digest. */
  async get(digest: string): Promise<Uint8Array | undefined> {
    const url = this.#url(digest);
    const response = await this.#send('GET', url);
    if (!response.ok) {
      const code = await this.#errorCode(response);
      // Only "no such key" means the blob is absent; a 404 for a missing bucket is a failure.
      if (response.status === 404 && code === 'NoSuchKey') return undefined;
      throw this.#failure('GET', url, response.status, code);
    }
    const limit = this.#options.maxBlobBytes ?? 256 * 1024 * 1024;
    const bytes = await readBodyLimited(
      response,
      limit,
      (detail) =>
        new VeriteeError(ErrorCode.KMS_STORE_FAILED, `S3 GET ${url.pathname}: blob too large`, {
          details: detail,
        }),
    );
    return bytes;
  }
}
