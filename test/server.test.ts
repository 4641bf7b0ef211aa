import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyEarJwt } from '../src/policy/ear.js';
import { createVerifierApp, jwkThumbprint } from '../src/server/app.js';
import { genuineNitroVectors } from './helpers/vectors.js';

const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
  format: 'jwk',
}) as JsonWebKey;
const logs: Record<string, unknown>[] = [];
const logger = {
  info: (f: Record<string, unknown>) => logs.push(f),
  warn: () => {},
  error: (f: Record<string, unknown>) => logs.push(f),
};
const { app } = createVerifierApp({ signingKey, logger, rateLimit: { rate: 1e9, burst: 1e9 } });
const marlin = genuineNitroVectors().find((v) => v.id === 'marlin-aws-2024-12-13')!;
const at = new Date(marlin.expected.verification_time.unix_ms);

const postJson = (body: unknown) =>
  app.request('/v1/verify', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('POST /v1/verify', () => {
  it('verifies a JSON request and returns the result and an EAR signed by the service key', async () => {
    const response = await postJson({
      evidence: Buffer.from(marlin.bytes).toString('base64'),
      at: at.toISOString(),
      policy: { measurements: { pcr0: marlin.expected.parsed.pcrs['0'] } },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      result: { verdict: string; measurements: Record<string, string> };
      ear: string;
    };
    expect(body.result.verdict).toBe('affirming');
    expect(body.result.measurements.pcr0).toBe(marlin.expected.parsed.pcrs['0']);
    const jwks = (await (await app.request('/.well-known/jwks.json')).json()) as {
      keys: (JsonWebKey & { kid: string })[];
    };
    expect(jwks.keys[0]!.d).toBeUndefined();
    expect(jwks.keys[0]!.kid).toBe(jwkThumbprint(signingKey));
    const ear = await verifyEarJwt(body.ear, { keys: jwks.keys, at });
    expect(ear.statuses).toEqual({ nitro: 'affirming' });
    expect(ear.header.kid).toBe(jwks.keys[0]!.kid);
    expect(
      (ear.claims.submods as Record<string, Record<string, string>>).nitro!['ear.appraisal-policy-id'],
    ).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('verifies raw bytes with ?at= (RFC 3339 or Unix seconds)', async () => {
    for (const value of [at.toISOString(), String(at.getTime() / 1000)]) {
      const response = await app.request(`/v1/verify?at=${encodeURIComponent(value)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: marlin.bytes as BodyInit,
      });
      expect(response.status).toBe(200);
    }
  });

  it('a policy that contraindicates is still a 200 with the verdict', async () => {
    const response = await postJson({
      evidence: Buffer.from(marlin.bytes).toString('hex'),
      at: at.getTime() / 1000,
      policy: { measurements: { pcr0: '00'.repeat(48) } },
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { result: { verdict: string } }).result.verdict).toBe(
      'contraindicated',
    );
  });

  it('answers 4xx with a stable code for every kind of bad request', async () => {
    const cases: [RequestInit, number, string][] = [
      [
        { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' },
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' },
        400,
        'ARGUMENT_INVALID',
      ],
      [
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' },
        400,
        'ARGUMENT_INVALID',
      ],
      [
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"evidence":""}' },
        400,
        'ARGUMENT_INVALID',
      ],
      [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"evidence":"00","extra":1}',
        },
        400,
        'ARGUMENT_INVALID',
      ],
      [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"evidence":"0000","at":"soon"}',
        },
        400,
        'ARGUMENT_INVALID',
      ],
      [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"evidence":"0000","policy":{"bogus":1}}',
        },
        400,
        'POLICY_INVALID',
      ],
      [
        { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"evidence":"0000"}' },
        422,
        'FORMAT_UNKNOWN',
      ],
      [
        { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array() },
        400,
        'ARGUMENT_INVALID',
      ],
      [
        {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: marlin.bytes as BodyInit,
        },
        422,
        'CERT_EXPIRED',
      ],
      [{ method: 'GET' }, 404, 'NOT_FOUND'],
    ];
    for (const [init, status, code] of cases) {
      const response = await app.request(init.method === 'GET' ? '/v2/nothing' : '/v1/verify', init);
      expect(response.status, JSON.stringify(init.body)).toBe(status);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(code);
    }
  });

  it('limits the body size (declared and streamed)', async () => {
    const small = createVerifierApp({ signingKey, maxBodyBytes: 100 }).app;
    const big = new Uint8Array(101);
    const declared = await small.request('/v1/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': '101' },
      body: big,
    });
    expect(declared.status).toBe(413);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array(60));
        controller.enqueue(new Uint8Array(60));
        controller.close();
      },
    });
    const streamed = await small.request('/v1/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
  });

  it('rate-limits per client with Retry-After', async () => {
    const limited = createVerifierApp({
      signingKey,
      rateLimit: { rate: 1, burst: 2 },
      clientOf: (c) => c.req.header('x-client') ?? '',
    }).app;
    const send = (client: string) =>
      limited.request('/v1/verify', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-client': client },
        body: '{"evidence":"00"}',
      });
    expect((await send('a')).status).toBe(422);
    expect((await send('a')).status).toBe(422);
    const third = await send('a');
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect((await send('b')).status).toBe(422);
  });

  it('never logs evidence or policy bodies', async () => {
    logs.length = 0;
    const secret = 'ab'.repeat(40);
    await postJson({ evidence: secret, policy: { nonce: secret } });
    expect(JSON.stringify(logs)).not.toContain(secret.slice(0, 20));
    expect(logs[0]).toMatchObject({
      method: 'POST',
      path: '/v1/verify',
      status: 422,
      code: 'FORMAT_UNKNOWN',
    });
  });
});

describe('service endpoints', () => {
  it('/healthz, /metrics, /openapi.json', async () => {
    expect(await (await app.request('/healthz')).json()).toMatchObject({ status: 'ok' });
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/veritee_http_requests_total\{route="\/v1\/verify",status="200"\} \d+/);
    expect(metrics).toMatch(/veritee_verifications_total\{platform="nitro",verdict="affirming"\} \d+/);
    expect(metrics).toContain('veritee_verify_duration_seconds_bucket{le="+Inf"}');
    const openapi = (await (await app.request('/openapi.json')).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toContain('/v1/verify');
  });
});

describe('abuse: 10,000 random and mutated bodies', () => {
  it('every answer is a 4xx with a typed code, never a 5xx, and valid requests still pass', async () => {
    const statuses = new Map<number, number>();
    let cases = 0;
    const body = fc.oneof(
      fc
        .uint8Array({ maxLength: 600 })
        .map((bytes) => ({ type: 'application/octet-stream', body: bytes as Uint8Array | string })),
      fc
        .tuple(fc.nat(marlin.bytes.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(marlin.bytes.length))
        .map(([i, x, cut]) => {
          const bytes = marlin.bytes.slice(0, Math.max(1, cut));
          bytes[i % bytes.length]! ^= x;
          return { type: 'application/octet-stream', body: bytes as Uint8Array | string };
        }),
      fc.json().map((text) => ({ type: 'application/json', body: text as Uint8Array | string })),
      fc
        .record({ evidence: fc.string(), at: fc.oneof(fc.string(), fc.integer()), policy: fc.object() })
        .map((o) => ({ type: 'application/json', body: JSON.stringify(o) as Uint8Array | string })),
    );
    await fc.assert(
      fc.asyncProperty(body, async ({ type, body }) => {
        cases++;
        const response = await app.request(`/v1/verify?at=${at.getTime() / 1000}`, {
          method: 'POST',
          headers: { 'content-type': type },
          body: body as BodyInit,
        });
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status === 200) return; // a mutation that left the document intact
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        const json = (await response.json()) as { error: { code: string } };
        expect(json.error.code).toMatch(/^[A-Z_]+$/);
      }),
      { numRuns: 10_000 },
    );
    expect(cases).toBe(10_000);
    expect([...statuses.keys()].every((status) => status < 500)).toBe(true);
    const valid = await app.request(`/v1/verify?at=${at.getTime() / 1000}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: marlin.bytes as BodyInit,
    });
    expect(valid.status).toBe(200);
  });
});
