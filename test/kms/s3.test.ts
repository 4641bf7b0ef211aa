/**
 * The S3-compatible blob store: AWS SigV4 against AWS's published examples, and the store against a
 * mock S3 on 127.0.0.1 that checks every request's signature and payload hash (PUT, GET, HEAD, 404,
 * errors), plus sealed state written and read back through it.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8Decode, utf8Encode } from '../../src/bytes.js';
import { ErrorCode, VeriteeError } from '../../src/errors.js';
import { openBlobStore } from '../../src/kms/node/blobs.js';
import {
  amzDateOf,
  parseS3Location,
  S3BlobStore,
  type S3BlobStoreOptions,
  s3OptionsFromEnv,
  signV4,
} from '../../src/kms/node/s3.js';
import { SealedState } from '../../src/kms/sealed.js';
import { register, startCluster } from './helpers.js';

const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const EMPTY = sha256Hex('');

describe('SigV4 (AWS Signature Version 4)', () => {
  // AWS SigV4 test suite ("Signature Version 4 test suite", AWS General Reference): get-vanilla.
  const suite = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
  const suiteHeaders = { host: 'example.amazonaws.com', 'x-amz-date': '20150830T123600Z' };

  it('get-vanilla', () => {
    const signed = signV4(
      {
        method: 'GET',
        url: new URL('https://example.amazonaws.com/'),
        headers: suiteHeaders,
        payloadHash: EMPTY,
      },
      suite,
      { region: 'us-east-1', service: 'service' },
    );
    expect(signed.authorization).toBe(
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    );
  });

  it('get-vanilla-query-order-key-case: the query is sorted before signing', () => {
    const signed = signV4(
      {
        method: 'GET',
        url: new URL('https://example.amazonaws.com/?Param2=value2&Param1=value1'),
        headers: suiteHeaders,
        payloadHash: EMPTY,
      },
      suite,
      { region: 'us-east-1', service: 'service' },
    );
    expect(signed.canonicalRequest.split('\n')[2]).toBe('Param1=value1&Param2=value2');
    expect(signed.signature).toBe('b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500');
  });

  it("the S3 API reference's GET Object example: canonical request, string to sign, signature", () => {
    const signed = signV4(
      {
        method: 'GET',
        url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
        headers: {
          Host: 'examplebucket.s3.amazonaws.com',
          Range: 'bytes=0-9',
          'x-amz-content-sha256': EMPTY,
          'x-amz-date': '20130524T000000Z',
        },
        payloadHash: EMPTY,
      },
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      { region: 'us-east-1', service: 's3' },
    );
    expect(signed.canonicalRequest).toBe(
      [
        'GET',
        '/test.txt',
        '',
        'host:examplebucket.s3.amazonaws.com',
        'range:bytes=0-9',
        `x-amz-content-sha256:${EMPTY}`,
        'x-amz-date:20130524T000000Z',
        '',
        'host;range;x-amz-content-sha256;x-amz-date',
        EMPTY,
      ].join('\n'),
    );
    expect(signed.stringToSign).toBe(
      'AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972',
    );
    expect(signed.signature).toBe('f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
  });

  it('refuses a request without host or with a malformed date', () => {
    const url = new URL('https://example.amazonaws.com/');
    const cases: Record<string, string>[] = [
      { 'x-amz-date': '20150830T123600Z' },
      { host: 'h', 'x-amz-date': '2015-08-30' },
    ];
    for (const headers of cases) {
      expect(() =>
        signV4({ method: 'GET', url, headers, payloadHash: EMPTY }, suite, { region: 'r', service: 's' }),
      ).toThrow(VeriteeError);
    }
  });

  it('formats x-amz-date', () => {
    expect(amzDateOf(new Date('2013-05-24T00:00:00.123Z'))).toBe('20130524T000000Z');
  });
});

describe('s3:// locations and configuration', () => {
  it('parses bucket and prefix, refuses bad ones', () => {
    expect(parseS3Location('s3://my-bucket')).toEqual({ bucket: 'my-bucket', prefix: '' });
    expect(parseS3Location('s3://my.bucket/sealed/app-1/')).toEqual({
      bucket: 'my.bucket',
      prefix: 'sealed/app-1/',
    });
    for (const bad of [
      's3://',
      's3://A',
      'http://bucket',
      's3://bucket/../x',
      's3://bucket/a//b',
      's3://bucket/a b',
      's3://-x-/p',
    ]) {
      expect(() => parseS3Location(bad)).toThrow(
        expect.objectContaining({ code: ErrorCode.ARGUMENT_INVALID }),
      );
    }
  });

  it('reads endpoint, region and credentials from the environment, and needs the credentials', () => {
    const location = parseS3Location('s3://bucket/p');
    const options = s3OptionsFromEnv(location, {
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'eu-west-1',
    });
    expect(options.endpoint.href).toBe('https://s3.eu-west-1.amazonaws.com/');
    expect(options.region).toBe('eu-west-1');
    expect(
      s3OptionsFromEnv(location, {
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        VERITEE_S3_ENDPOINT: 'http://127.0.0.1:9000',
      }).endpoint.host,
    ).toBe('127.0.0.1:9000');
    expect(() => s3OptionsFromEnv(location, { AWS_ACCESS_KEY_ID: 'a' })).toThrow(
      expect.objectContaining({ code: ErrorCode.ARGUMENT_INVALID }),
    );
    expect(() =>
      s3OptionsFromEnv(location, {
        AWS_ACCESS_KEY_ID: 'a',
        AWS_SECRET_ACCESS_KEY: 'b',
        VERITEE_S3_ENDPOINT: 'ftp://x',
      }),
    ).toThrow(expect.objectContaining({ code: ErrorCode.ARGUMENT_INVALID }));
    expect(
      openBlobStore('s3://bucket/p', { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' }),
    ).toBeInstanceOf(S3BlobStore);
  });
});

// --- A mock S3 on 127.0.0.1 -------------------------------------------------------------------------

const CREDENTIALS = { accessKeyId: 'AKIDMOCK', secretAccessKey: 'mock/secret+key' };
const REGION = 'us-mock-1';

interface MockS3 {
  readonly endpoint: URL;
  readonly objects: Map<string, Uint8Array>;
  readonly requests: string[];
  /** Answer the next request with this status and S3 error code. */
  failNext?: { status: number; code: string };
  close(): Promise<void>;
}

function xmlError(response: ServerResponse, status: number, code: string) {
  response.writeHead(status, { 'content-type': 'application/xml' });
  response.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>mock</Message></Error>`,
  );
}

/** Checks the request's SigV4 signature by signing what it received, as S3 does. */
function signatureOk(request: IncomingMessage, url: URL): boolean {
  const authorization = request.headers.authorization ?? '';
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/([^/]+)\/s3\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (match === null || match[1] !== CREDENTIALS.accessKeyId || match[2] !== REGION) return false;
  const headers: Record<string, string> = {};
  for (const name of match[3]!.split(';')) headers[name] = String(request.headers[name] ?? '');
  const expected = signV4(
    {
      method: request.method ?? '',
      url,
      headers,
      payloadHash: String(request.headers['x-amz-content-sha256']),
    },
    CREDENTIALS,
    { region: REGION, service: 's3' },
  );
  return expected.signature === match[4] && match[3]!.includes('host') && match[3]!.includes('x-amz-date');
}

async function startMockS3(): Promise<MockS3> {
  const objects = new Map<string, Uint8Array>();
  const requests: string[] = [];
  const state: { failNext?: { status: number; code: string } } = {};
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const url = new URL(request.url ?? '/', `http://${request.headers.host}`);
      requests.push(`${request.method} ${url.pathname}`);
      if (state.failNext !== undefined) {
        const { status, code } = state.failNext;
        state.failNext = undefined;
        return xmlError(response, status, code);
      }
      if (!signatureOk(request, url)) return xmlError(response, 403, 'SignatureDoesNotMatch');
      if (request.headers['x-amz-content-sha256'] !== sha256Hex(body))
        return xmlError(response, 400, 'XAmzContentSHA256Mismatch');
      const [, bucket, ...key] = url.pathname.split('/');
      if (bucket !== 'sealed-bucket') return xmlError(response, 404, 'NoSuchBucket');
      const name = key.join('/');
      if (request.method === 'PUT') {
        objects.set(name, body);
        response.writeHead(200, { etag: `"${sha256Hex(body).slice(0, 32)}"` });
        return response.end();
      }
      const object = objects.get(name);
      if (request.method === 'HEAD') {
        response.writeHead(
          object === undefined ? 404 : 200,
          object === undefined ? {} : { 'content-length': object.length },
        );
        return response.end();
      }
      if (request.method === 'GET') {
        if (object === undefined) return xmlError(response, 404, 'NoSuchKey');
        response.writeHead(200, { 'content-length': object.length });
        return response.end(object);
      }
      return xmlError(response, 405, 'MethodNotAllowed');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    endpoint: new URL(`http://127.0.0.1:${port}`),
    objects,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

describe('S3BlobStore against a mock S3 on 127.0.0.1', () => {
  let mock: MockS3;
  const store = (overrides: Partial<S3BlobStoreOptions> = {}) =>
    new S3BlobStore({
      location: parseS3Location('s3://sealed-bucket/apps/demo'),
      endpoint: mock.endpoint,
      region: REGION,
      credentials: CREDENTIALS,
      ...overrides,
    });
  const blob = utf8Encode('a sealed blob');
  const digest = sha256Hex(blob);

  beforeAll(async () => {
    mock = await startMockS3();
  });
  afterAll(() => mock.close());

  it('PUTs a new blob (after a HEAD that finds none), GETs it back, and does not re-upload it', async () => {
    mock.requests.length = 0;
    await store().put(digest, blob);
    expect(mock.requests).toEqual([
      `HEAD /sealed-bucket/apps/demo/${digest}`,
      `PUT /sealed-bucket/apps/demo/${digest}`,
    ]);
    expect(utf8Decode(mock.objects.get(`apps/demo/${digest}`)!)).toBe('a sealed blob');
    expect(utf8Decode((await store().get(digest))!)).toBe('a sealed blob');
    mock.requests.length = 0;
    await store().put(digest, blob);
    expect(mock.requests).toEqual([`HEAD /sealed-bucket/apps/demo/${digest}`]);
  });

  it('answers undefined for a missing blob (404 NoSuchKey)', async () => {
    expect(await store().get('0'.repeat(64))).toBeUndefined();
  });

  it('signs with temporary credentials too (x-amz-security-token is a signed header)', async () => {
    const other = utf8Encode('with a session token');
    await store({ credentials: { ...CREDENTIALS, sessionToken: 'token/with+chars' } }).put(
      sha256Hex(other),
      other,
    );
    expect(mock.objects.has(`apps/demo/${sha256Hex(other)}`)).toBe(true);
  });

  it('reports S3 errors as KMS_STORE_FAILED with the S3 code, never the secret', async () => {
    const wrong = store({
      credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    const refused = await wrong.get(digest).then(
      () => undefined,
      (error: unknown) => error as VeriteeError,
    );
    expect(refused).toMatchObject({ code: ErrorCode.KMS_STORE_FAILED, details: 'SignatureDoesNotMatch' });
    expect(`${refused?.message} ${refused?.details}`).not.toContain('not-the-secret');

    mock.failNext = { status: 503, code: 'SlowDown' };
    await expect(store().get(digest)).rejects.toMatchObject({
      code: ErrorCode.KMS_STORE_FAILED,
      details: 'SlowDown',
    });
    mock.failNext = { status: 500, code: 'InternalError' };
    await expect(store().get(digest)).rejects.toMatchObject({
      code: ErrorCode.KMS_STORE_FAILED,
      details: 'InternalError',
    });
    // A HEAD answer has no body, so no S3 code: the status says what happened.
    mock.failNext = { status: 500, code: 'InternalError' };
    await expect(store().put(sha256Hex('x'), utf8Encode('x'))).rejects.toMatchObject({
      code: ErrorCode.KMS_STORE_FAILED,
      message: expect.stringContaining('HEAD /sealed-bucket/apps/demo/'),
    });
    expect(mock.objects.has(`apps/demo/${sha256Hex('x')}`)).toBe(false);
    const noBucket = new S3BlobStore({
      location: parseS3Location('s3://other-bucket'),
      endpoint: mock.endpoint,
      region: REGION,
      credentials: CREDENTIALS,
    });
    await expect(noBucket.get(digest)).rejects.toMatchObject({
      code: ErrorCode.KMS_STORE_FAILED,
      details: 'NoSuchBucket',
    });
  });

  it('refuses a blob over the size limit and a bad digest', async () => {
    await expect(store({ maxBlobBytes: 4 }).get(digest)).rejects.toMatchObject({
      code: ErrorCode.KMS_STORE_FAILED,
    });
    await expect(store().get('../etc/passwd')).rejects.toMatchObject({ code: ErrorCode.ARGUMENT_INVALID });
  });

  it('reports an unreachable endpoint as KMS_STORE_FAILED', async () => {
    const closed = await startMockS3();
    await closed.close();
    await expect(store({ endpoint: closed.endpoint, timeoutMs: 5_000 }).get(digest)).rejects.toMatchObject({
      code: ErrorCode.KMS_STORE_FAILED,
    });
  });

  it('holds sealed state: versions countersigned by the nodes, the newest read back', async () => {
    const cluster = await startCluster(3);
    try {
      await register(cluster, 2, 's3-app');
      const key = await cluster.client({ appId: 's3-app' }).create();
      const state = new SealedState({
        key,
        nodes: cluster.nodes.map((node) => ({ url: node.url, ref: node.identity.ref })),
        blobs: store(),
        fetch: cluster.fetch,
      });
      await state.write('db', utf8Encode('v1'));
      await state.write('db', utf8Encode('v2'));
      const read = await state.read('db');
      expect(utf8Decode(read!.plaintext)).toBe('v2');
      expect(read!.version.version).toBe(2);
    } finally {
      await cluster.close();
    }
  });
});
