import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../src/errors.js';
import { signEar, toEar, trustworthinessVector, validateEarClaims, verifyEarJwt } from '../src/policy/ear.js';
import { loadPolicy, verify } from '../src/verify.js';
import { genuineNitroVectors, nitroVectors, VECTORS } from './helpers/vectors.js';

const EAR = join(VECTORS, 'ear');
const read = (path: string) => readFileSync(join(EAR, path), 'utf8');
const json = (path: string) => JSON.parse(read(path));
const pkey = json('veraison-ear/keys/pkey.json') as JsonWebKey;
const skey = json('veraison-ear/keys/skey.json') as JsonWebKey;
// The tokens carry iat in 2022; verification time inside their life.
const AT = new Date('2023-01-01T00:00:00Z');

describe('EAR JWTs from veraison/ear and the draft', () => {
  it('verifies the valid ES256 tokens with the published key', async () => {
    for (const file of ['es256-no-jwk.jwt', 'es256-jwk-in-header.jwt', 'verify-pass.jwt']) {
      const ear = await verifyEarJwt(read(`veraison-ear/jwt/${file}`), { keys: [pkey], at: AT });
      expect(ear.names).toBe('dotted');
      expect(Object.values(ear.statuses).length).toBeGreaterThan(0);
    }
    const tv = await verifyEarJwt(read('veraison-ear/jwt/es256-no-jwk.jwt'), { keys: [pkey], at: AT });
    expect(tv.claims).toEqual(json('veraison-ear/claims/ear-claims-tv-ok.json'));
  });

  it('verifies the draft OPA example with its JWKS (float iat included)', async () => {
    const jwks = json('draft-ietf-rats-ear/opa-example/trusted_verifiers.jwks.json') as {
      keys: JsonWebKey[];
    };
    const token = read('draft-ietf-rats-ear/opa-example/ear.jwt');
    const ear = await verifyEarJwt(token, { keys: jwks.keys, at: new Date('2023-03-01T00:00:00Z') });
    expect(ear.statuses).toEqual({ PARSEC_TPM: 'affirming' });
    // nbf is 2023-02-24T14:11:19Z.
    await expect(verifyEarJwt(token, { keys: jwks.keys, at: AT })).rejects.toMatchObject({
      code: ErrorCode.EVIDENCE_TIME_INVALID,
    });
  });

  it('rejects the negative tokens with the right codes', async () => {
    const cases: [string, string][] = [
      ['fail-hs256.jwt', ErrorCode.SIG_ALGORITHM_UNSUPPORTED],
      ['fail-alg-none.jwt', ErrorCode.PARSE_MALFORMED],
      ['fail-bad-format.jwt', ErrorCode.PARSE_MALFORMED],
      ['fail-trailing-rubbish.jwt', ErrorCode.PARSE_MALFORMED],
      ['fail-empty-claims.jwt', ErrorCode.EVIDENCE_INVALID],
    ];
    for (const [file, code] of cases) {
      await expect(
        verifyEarJwt(read(`veraison-ear/jwt/${file}`), { keys: [pkey], at: AT }),
        file,
      ).rejects.toMatchObject({ code });
    }
  });

  it('never trusts the key in the token header, and checks exp', async () => {
    const token = read('veraison-ear/jwt/trustee-realm-expired.jwt');
    await expect(verifyEarJwt(token, { keys: [pkey], at: AT })).rejects.toMatchObject({
      code: ErrorCode.SIG_INVALID,
    });
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as {
      jwk: JsonWebKey;
    };
    const trusted = await verifyEarJwt(token, { keys: [header.jwk], at: new Date('2025-07-09T11:06:00Z') });
    expect(trusted.statuses).toEqual({ cpu0: 'affirming' });
    await expect(
      verifyEarJwt(token, { keys: [header.jwk], at: new Date('2025-07-09T11:11:00Z') }),
    ).rejects.toMatchObject({
      code: ErrorCode.EVIDENCE_TIME_INVALID,
    });
  });

  it('validates the draft -02 and -03 JSON examples', () => {
    for (const draft of ['draft-02', 'draft-03']) {
      for (const file of [
        'ear-json-1.json',
        'ear-json-2.json',
        'ext-veraison-json-1.json',
        'ext-teep-json-1.json',
      ]) {
        const result = validateEarClaims(json(`draft-ietf-rats-ear/${draft}/${file}`));
        expect(result.names).toBe(draft === 'draft-02' ? 'dotted' : 'underscore');
      }
    }
  });
});

describe('EAR from veritee results', () => {
  const marlin = genuineNitroVectors().find((v) => v.id === 'marlin-aws-2024-12-13')!;
  const at = new Date(marlin.expected.verification_time.unix_ms);

  it('builds dotted EAR claims that validate, and signs/verifies ES256 with the published test key', async () => {
    const result = await verify(marlin.bytes, {
      at,
      policy: loadPolicy({ measurements: { pcr0: marlin.expected.parsed.pcrs['0'] } }),
    });
    const claims = toEar(result, { iat: at, policyId: 'sha256:abcd', build: 'veritee test' });
    expect(claims.eat_profile).toBe('tag:github.com,2023:veraison/ear');
    expect(claims.iat).toBe(Math.floor(at.getTime() / 1000));
    expect(claims.exp).toBe(Math.floor(Date.parse(result.validUntil!) / 1000));
    const submod = (claims.submods as Record<string, Record<string, unknown>>).nitro!;
    expect(submod['ear.status']).toBe('affirming');
    expect(submod['ear.trustworthiness-vector']).toEqual({
      'instance-identity': 2,
      hardware: 2,
      executables: 2,
      configuration: 2,
      'runtime-opaque': 2,
    });
    expect(submod['ear.appraisal-policy-id']).toBe('sha256:abcd');
    expect(validateEarClaims(claims).statuses).toEqual({ nitro: 'affirming' });
    const token = await signEar(claims, skey);
    const verified = await verifyEarJwt(token, { keys: [pkey], at });
    expect(verified.claims).toEqual(claims);
    expect(verified.header).toEqual({ alg: 'ES256', typ: 'JWT' });
  });

  it('signs with Ed25519 (EdDSA) and ES384, and refuses a wrong key', async () => {
    const result = await verify(marlin.bytes, { at });
    const claims = toEar(result, { iat: at });
    for (const type of ['ed25519', 'p384'] as const) {
      const pair =
        type === 'ed25519'
          ? generateKeyPairSync('ed25519')
          : generateKeyPairSync('ec', { namedCurve: 'P-384' });
      const token = await signEar(claims, pair.privateKey.export({ format: 'jwk' }) as JsonWebKey);
      const publicJwk = pair.publicKey.export({ format: 'jwk' }) as JsonWebKey;
      await expect(verifyEarJwt(token, { keys: [publicJwk], at })).resolves.toBeDefined();
      await expect(verifyEarJwt(token, { keys: [pkey], at })).rejects.toMatchObject({
        code: ErrorCode.SIG_INVALID,
      });
    }
  });

  it('uses underscore names for draft -03', async () => {
    const claims = toEar(await verify(marlin.bytes, { at }), { names: 'underscore', iat: at });
    expect(claims.eat_profile).toBe('tag:ietf.org,2026:rats/ear#03');
    expect(claims.ear_status).toBe('affirming');
    expect(claims.ear_verifier_id).toBeDefined();
    expect(validateEarClaims(claims).names).toBe('underscore');
  });

  it('maps failures and debug to AR4SI codes', async () => {
    const mock = nitroVectors().find((v) => v.id.startsWith('marlin-mock'))!;
    const untrusted = await verify(mock.bytes, { at: new Date(mock.expected.verification_time.unix_ms) });
    expect(trustworthinessVector(untrusted)).toEqual({ 'instance-identity': 97 });
    const flipped = marlin.bytes.slice();
    flipped[flipped.length - 3]! ^= 1;
    expect(trustworthinessVector(await verify(flipped, { at }))).toEqual({ 'instance-identity': 99 });
    const debugVector = genuineNitroVectors().find((v) => v.id === 'evervault-beta-debug-2022-10-12')!;
    const debug = await verify(debugVector.bytes, {
      at: new Date(debugVector.expected.verification_time.unix_ms),
    });
    expect(trustworthinessVector(debug)).toMatchObject({ configuration: 96, 'runtime-opaque': 96 });
    const wrong = await verify(marlin.bytes, {
      at,
      policy: loadPolicy({ measurements: { pcr0: '00'.repeat(48) } }),
    });
    expect(trustworthinessVector(wrong).executables).toBe(33);
    expect(toEar(wrong).submods).toMatchObject({ nitro: { 'ear.status': 'contraindicated' } });
  });
});
