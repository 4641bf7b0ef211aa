/**
 * The veritee-nsm addon (native/nsm) through the nitro provider: the real open() and ioctl() path.
 * No Nitro device exists here, so: an absent path (ENOENT), files that are not an NSM (ENOTTY), and an
 * LD_PRELOAD interposer (test/helpers/nsm-interposer.c, compiled here with `cc`) that plays the kernel
 * driver in a child `node` process and answers with a real Nitro attestation document.
 *
 * Without the addon or a C compiler these tests skip with a message, unless VERITEE_REQUIRE_NSM=1 (CI
 * sets it), which makes either absence a failure.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/bytes.js';
import { type CborMap, decodeCbor } from '../../src/cbor.js';
import { VeriteeError } from '../../src/errors.js';
import {
  NSM_REQUEST_MAX_SIZE,
  NSM_RESPONSE_MAX_SIZE,
  nativeNsmDriver,
  nitroProvider,
} from '../../src/runtime/providers/index.js';
import { verify } from '../../src/verify.js';
import { EncMap, encode } from '../helpers/cbor-encode.js';
import { nitroVectors } from '../helpers/vectors.js';

const ROOT = join(import.meta.dirname, '..', '..');
const REQUIRED = process.env.VERITEE_REQUIRE_NSM === '1';
const REPORT_DATA = Uint8Array.from({ length: 64 }, (_, i) => 0xa0 ^ i);
/** _IOWR(0x0A, 0, struct nsm_raw): read|write << 30 | 32 << 16 | 0x0A << 8 | 0. */
const NSM_IOCTL_RAW = 0xc0200a00;

interface Addon {
  request(device: string, request: Uint8Array): Promise<Uint8Array>;
  readonly REQUEST_MAX_SIZE: number;
  readonly RESPONSE_MAX_SIZE: number;
  readonly IOCTL_RAW: number;
}

function loadAddon(): Addon | undefined {
  try {
    return createRequire(import.meta.url)('veritee-nsm') as Addon;
  } catch (error) {
    const why = `the veritee-nsm addon does not load (${(error as Error).message.split('\n')[0]})`;
    if (REQUIRED) throw new Error(`VERITEE_REQUIRE_NSM=1 but ${why}: run npm rebuild veritee-nsm`);
    console.warn(`SKIPPING the NSM addon tests: ${why}; npm rebuild veritee-nsm builds it`);
    return undefined;
  }
}

function hasCompiler(): boolean {
  try {
    execFileSync('cc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (REQUIRED) throw new Error('VERITEE_REQUIRE_NSM=1 but there is no C compiler (cc) for the interposer');
    console.warn('SKIPPING the NSM interposer tests: no C compiler (cc) to build the LD_PRELOAD shim');
    return false;
  }
}

const addon = loadAddon();
const compiler = addon !== undefined && hasCompiler();

function temp(prefix: string): string {
  return realpathSync(mkdtempSync(join(tmpdir(), `veritee-${prefix}-`)));
}

async function rejection(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('the nitro provider without its addon', () => {
  it('a missing addon: a typed error saying how to build it (or, without a device, that there is no enclave)', async () => {
    const file = join(temp('nsm'), 'nsm');
    writeFileSync(file, '');
    const addonPath = join(temp('nsm'), 'absent.node');
    const error = await rejection(
      nativeNsmDriver({ device: file, addon: addonPath }).request(Uint8Array.of(0)),
    );
    expect(error).toBeInstanceOf(VeriteeError);
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.message).toMatch(/the NSM addon .* is not built or does not load/);
    expect(error.details).toMatch(/MODULE_NOT_FOUND; .*npm rebuild veritee-nsm/);
    const outside = await rejection(
      nativeNsmDriver({ device: join(temp('nsm'), 'nsm'), addon: addonPath }).request(Uint8Array.of(0)),
    );
    expect(outside.details).toBe('not inside an AWS Nitro Enclave');
  });
});

describe.skipIf(addon === undefined)('veritee-nsm addon: open and ioctl on real files', () => {
  it('exports the kernel interface constants', () => {
    expect(addon!.IOCTL_RAW).toBe(NSM_IOCTL_RAW);
    expect(addon!.REQUEST_MAX_SIZE).toBe(NSM_REQUEST_MAX_SIZE);
    expect(addon!.RESPONSE_MAX_SIZE).toBe(NSM_RESPONSE_MAX_SIZE);
  });

  it('an absent device: ENOENT from open → PROVIDER_UNAVAILABLE, not inside an enclave', async () => {
    const device = join(temp('nsm'), 'nsm');
    const raw = await rejection(nativeNsmDriver({ device }).request(Uint8Array.of(0xa0)));
    expect([raw.code, raw.errno, raw.syscall]).toEqual(['ENOENT', 2, 'open']);
    const error = await rejection(nitroProvider({ device }).getEvidence(REPORT_DATA));
    expect(error).toBeInstanceOf(VeriteeError);
    expect(error.code).toBe('PROVIDER_UNAVAILABLE');
    expect(error.message).toContain(device);
    expect(error.details).toBe('not inside an AWS Nitro Enclave');
  });

  it('a regular file or /dev/null: ENOTTY from the ioctl → PROVIDER_UNAVAILABLE, not an NSM device', async () => {
    const file = join(temp('nsm'), 'nsm');
    writeFileSync(file, 'not a device');
    for (const device of [file, '/dev/null']) {
      const raw = await rejection(nativeNsmDriver({ device }).request(Uint8Array.of(0xa0)));
      expect([raw.code, raw.syscall]).toEqual(['ENOTTY', 'ioctl']);
      const error = await rejection(nitroProvider({ device }).getEvidence(REPORT_DATA));
      expect(error.code).toBe('PROVIDER_UNAVAILABLE');
      expect(error.message).toBe(`nitro: ${device} is not an NSM device: ENOTTY from the NSM ioctl`);
    }
    expect(readFileSync(file, 'utf8')).toBe('not a device');
  });

  it('a directory: EISDIR from open → PROVIDER_FAILED naming the errno', async () => {
    const error = await rejection(nitroProvider({ device: temp('nsm') }).getEvidence(REPORT_DATA));
    expect([error.code, error.details]).toEqual(['PROVIDER_FAILED', 'EISDIR']);
  });

  it('refuses bad arguments before any system call', () => {
    const request = Uint8Array.of(0xa0);
    const cases: [() => unknown, string][] = [
      [() => addon!.request('/dev/null', new Uint8Array(0)), 'ERR_OUT_OF_RANGE'],
      [() => addon!.request('/dev/null', new Uint8Array(NSM_REQUEST_MAX_SIZE + 1)), 'ERR_OUT_OF_RANGE'],
      [
        () => addon!.request('/dev/null', new Uint16Array(2) as unknown as Uint8Array),
        'ERR_INVALID_ARG_TYPE',
      ],
      [() => addon!.request('/dev/null', [1] as unknown as Uint8Array), 'ERR_INVALID_ARG_TYPE'],
      [() => addon!.request('', request), 'ERR_OUT_OF_RANGE'],
      [() => addon!.request('x'.repeat(4096), request), 'ERR_OUT_OF_RANGE'],
      [() => addon!.request('/dev/null\0/x', request), 'ERR_INVALID_ARG_TYPE'],
      [() => addon!.request(7 as unknown as string, request), 'ERR_INVALID_ARG_TYPE'],
      [() => (addon!.request as (...args: unknown[]) => unknown)('/dev/null'), 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [call, code] of cases) expect(call).toThrow(expect.objectContaining({ code }));
  });
});

/** `{"Attestation": {"document": document}}`, as the NSM answers. */
function nsmAnswer(document: Uint8Array): Uint8Array {
  return encode(new EncMap([['Attestation', new EncMap([['document', document]])]]));
}

interface ChildResult {
  readonly ok?: { platform: string; evidence: string }[];
  readonly error?: { name: string; code: string; message: string; details?: string };
}

describe.skipIf(!compiler)('veritee-nsm addon: the ioctl path against an LD_PRELOAD driver', () => {
  const vector = nitroVectors().find((v) => v.id === 'marlin-aws-2024-12-13')!;
  let dir: string;
  let shim: string;
  let script: string;

  beforeAll(() => {
    dir = temp('nsm-preload');
    shim = join(dir, 'nsm-interposer.so');
    execFileSync('cc', [
      '-shared',
      '-fPIC',
      '-O1',
      '-Wall',
      '-Werror',
      '-o',
      shim,
      join(ROOT, 'test', 'helpers', 'nsm-interposer.c'),
      '-ldl',
    ]);
    script = join(dir, 'child.mjs');
    // The child uses the built provider (dist/, from the suite's global setup) with the default driver.
    writeFileSync(
      script,
      `const { nitroProvider } = await import(${JSON.stringify(
        pathToFileURL(join(ROOT, 'dist', 'runtime', 'providers', 'index.js')).href,
      )});
      const reportData = Uint8Array.from(Buffer.from(process.env.REPORT_DATA_HEX, 'hex'));
      const provider = nitroProvider({ device: process.env.FAKE_NSM_DEVICE });
      const count = Number(process.env.REQUESTS ?? '1');
      try {
        const results = await Promise.all(Array.from({ length: count }, () => provider.getEvidence(reportData)));
        console.log(JSON.stringify({ ok: results.map((r) => ({ platform: r.platform, evidence: Buffer.from(r.evidence).toString('hex') })) }));
      } catch (e) {
        console.log(JSON.stringify({ error: { name: e.name, code: e.code, message: e.message, details: e.details } }));
      }`,
    );
  });

  function runChild(mode: string, answer: Uint8Array, requests = 1): ChildResult & { record: string } {
    const run = mkdtempSync(join(dir, `${mode}-`));
    const device = join(run, 'nsm');
    writeFileSync(device, '');
    const response = join(run, 'response.cbor');
    writeFileSync(response, answer);
    const record = join(run, 'request.cbor');
    const out = execFileSync(process.execPath, [script], {
      encoding: 'utf8',
      env: {
        ...process.env,
        LD_PRELOAD: shim,
        FAKE_NSM_DEVICE: device,
        FAKE_NSM_MODE: mode,
        FAKE_NSM_RESPONSE: response,
        FAKE_NSM_RECORD: record,
        REPORT_DATA_HEX: toHex(REPORT_DATA),
        REQUESTS: String(requests),
      },
    });
    return { ...(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult), record };
  }

  it('sends the CBOR request through NSM_IOCTL_RAW and returns the real document, which verifies', async () => {
    const { ok, error, record } = runChild('ok', nsmAnswer(vector.bytes));
    expect(error).toBeUndefined();
    expect(ok).toHaveLength(1);
    expect(ok![0]!.platform).toBe('nitro');
    expect(ok![0]!.evidence).toBe(toHex(vector.bytes));

    // What the driver saw: the right number, a request of the right size, a full-size response buffer.
    const meta = JSON.parse(readFileSync(`${record}.meta`, 'utf8'));
    const request = new Uint8Array(readFileSync(record));
    expect(meta).toEqual({
      number: NSM_IOCTL_RAW,
      requestLength: request.length,
      responseCapacity: NSM_RESPONSE_MAX_SIZE,
    });
    const decoded = decodeCbor(request) as CborMap;
    expect([...decoded.entries.keys()]).toEqual(['Attestation']);
    const attestation = decoded.get('Attestation') as CborMap;
    expect(toHex(attestation.get('user_data') as Uint8Array)).toBe(toHex(REPORT_DATA));
    expect(attestation.get('nonce')).toBeNull();
    expect(attestation.get('public_key')).toBeNull();

    const result = await verify(Uint8Array.from(Buffer.from(ok![0]!.evidence, 'hex')), {
      at: new Date(vector.expected.verification_time.unix_ms),
    });
    expect(result.verdict).toBe('affirming');
    expect(result.platform).toBe('nitro');
  });

  it('serves concurrent requests (each on its own descriptor) and retries an interrupted ioctl', () => {
    const concurrent = runChild('ok', nsmAnswer(vector.bytes), 6);
    expect(concurrent.ok?.map((r) => r.evidence === toHex(vector.bytes))).toEqual(Array(6).fill(true));
    const interrupted = runChild('eintr-once', nsmAnswer(vector.bytes));
    expect(interrupted.ok?.[0]?.evidence).toBe(toHex(vector.bytes));
  });

  it('reports an NSM error answer and malformed answers as PROVIDER_FAILED', () => {
    const nsmError = encode(new EncMap([['Error', 'InvalidArgument']]));
    const cases: [Uint8Array, RegExp][] = [
      [nsmError, /NSM answered with an error/],
      [new Uint8Array(0), /not valid CBOR/],
      [nsmAnswer(vector.bytes).subarray(0, 1000), /not valid CBOR/],
      [encode(new EncMap([['Attestation', new EncMap([])]])), /no attestation document/],
    ];
    for (const [answer, message] of cases) {
      const { error } = runChild('ok', answer);
      expect(error?.code).toBe('PROVIDER_FAILED');
      expect(error?.message).toMatch(message);
    }
  });

  it('an answer longer than the buffer is cut at the buffer by the driver, and then refused', () => {
    const padded = new Uint8Array(NSM_RESPONSE_MAX_SIZE + 500).fill(0x41);
    const { error } = runChild('ok', nsmAnswer(padded));
    expect(error?.code).toBe('PROVIDER_FAILED');
    expect(error?.message).toMatch(/not valid CBOR/);
  });

  it('a driver that lies about the length or moves the buffer, or fails: typed errors, no crash', () => {
    const answer = nsmAnswer(vector.bytes);
    const cases: [string, string, RegExp][] = [
      ['overlong-length', 'PROVIDER_FAILED', /too large/],
      ['huge-length', 'PROVIDER_FAILED', /too large/],
      ['emsgsize', 'PROVIDER_FAILED', /too large/],
      ['moved-buffer', 'PROVIDER_FAILED', /NSM request failed/],
      ['positive', 'PROVIDER_FAILED', /NSM request failed/],
    ];
    for (const [mode, code, message] of cases) {
      const { error } = runChild(mode, answer);
      expect(error?.code, mode).toBe(code);
      expect(error?.message, mode).toMatch(message);
    }
  });
});
