/**
 * The registry's platform modules load their verification code on first use (src/platforms/lazy.ts):
 * they behave like the complete modules, and a failed load is a typed MODULE_UNAVAILABLE, never a raw
 * exception, and is retried on the next call.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, VeriteeError } from '../src/errors.js';
import { dcapPlatform } from '../src/platforms/dcap/index.js';
import { lazyPlatform } from '../src/platforms/lazy.js';
import { NITRO_DESCRIPTOR } from '../src/platforms/nitro/descriptor.js';
import { nitroPlatform } from '../src/platforms/nitro/index.js';
import { PLATFORM_MODULES } from '../src/platforms/registry.js';
import { snpPlatform } from '../src/platforms/snp/index.js';
import { verify } from '../src/verify.js';
import { genuineNitroVectors } from './helpers/vectors.js';

const marlin = genuineNitroVectors().find((v) => v.id === 'marlin-aws-2024-12-13')!;
const at = new Date(marlin.expected.verification_time.unix_ms);
const lenient = { allowDebug: true, sections: {} };

async function rejection(promise: Promise<unknown>): Promise<VeriteeError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VeriteeError);
  return error as VeriteeError;
}

describe('lazyPlatform', () => {
  it('loads the complete module once and verifies with it', async () => {
    const load = vi.fn(async () => nitroPlatform);
    const lazy = lazyPlatform(NITRO_DESCRIPTOR, load);
    expect(lazy.detect(marlin.bytes)).toBe(true);
    const [a, b] = await Promise.all([lazy.load!(), lazy.load!()]);
    expect(a).toBe(nitroPlatform);
    expect(b).toBe(nitroPlatform);
    const evidence = await lazy.verifyBytes(marlin.bytes, { at });
    expect(evidence.platform).toBe('nitro');
    expect(lazy.appraise!(evidence, lenient)).toEqual({ checks: [], warnings: [] });
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('turns a failed load into MODULE_UNAVAILABLE and tries again on the next call', async () => {
    const load = vi
      .fn<() => Promise<typeof nitroPlatform>>()
      .mockRejectedValueOnce(new TypeError('Failed to fetch dynamically imported module'))
      .mockResolvedValue(nitroPlatform);
    const lazy = lazyPlatform(NITRO_DESCRIPTOR, load);
    const error = await rejection(lazy.verifyBytes(marlin.bytes, { at }));
    expect(error.code).toBe(ErrorCode.MODULE_UNAVAILABLE);
    expect(error.message).toMatch(/nitro verification code could not be loaded.*Failed to fetch/);
    expect((await lazy.verifyBytes(marlin.bytes, { at })).platform).toBe('nitro');
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('refuses to appraise before the module is loaded instead of skipping the platform checks', () => {
    const lazy = lazyPlatform(NITRO_DESCRIPTOR, async () => nitroPlatform);
    const evidence = { platform: 'nitro' } as Parameters<NonNullable<typeof lazy.appraise>>[0];
    expect(() => lazy.appraise!(evidence, lenient)).toThrow(
      expect.objectContaining({ code: ErrorCode.ARGUMENT_INVALID }),
    );
  });

  it('verify() reports a failed load as the result error, with the detected platform', async () => {
    const broken = lazyPlatform(NITRO_DESCRIPTOR, () => Promise.reject(new Error('chunk missing')));
    const result = await verify(marlin.bytes, { at, policy: lenient, platforms: [broken] });
    expect(result).toMatchObject({ platform: 'nitro', verified: false, verdict: 'contraindicated' });
    expect(result.errors[0]?.code).toBe(ErrorCode.MODULE_UNAVAILABLE);
  });
});

describe('the registry', () => {
  it('holds lazy modules that load the same complete modules the subpath entries export', async () => {
    expect(PLATFORM_MODULES.map((m) => m.platforms)).toEqual([['nitro'], ['sgx', 'tdx'], ['sev-snp']]);
    const loaded = await Promise.all(PLATFORM_MODULES.map((module) => module.load!()));
    expect(loaded).toEqual([nitroPlatform, dcapPlatform, snpPlatform]);
    expect(loaded[0]).toBe(nitroPlatform);
  });
});

describe('the release appraisal', () => {
  afterEach(() => {
    vi.doUnmock('../src/measure/releases.js');
    vi.resetModules();
  });

  it('reports MODULE_UNAVAILABLE when its code cannot be loaded', async () => {
    vi.resetModules();
    vi.doMock('../src/measure/releases.js', () => {
      throw new Error('chunk missing');
    });
    const fresh = await import('../src/verify.js');
    const { generateKeyPairSync } = await import('node:crypto');
    const jwk = () => generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const policy = fresh.loadPolicy({
      allowDebug: true,
      releases: {
        signer: jwk(),
        repository: 'https://example.com/app',
        log: { origin: 'example.com/log', publicKey: jwk() },
      },
    });
    const result = await fresh.verify(marlin.bytes, { at, policy });
    expect(result.verified).toBe(false);
    expect(result.errors[0]?.code).toBe(ErrorCode.MODULE_UNAVAILABLE);
  });
});
