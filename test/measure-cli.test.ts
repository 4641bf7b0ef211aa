/** The measure, release and log commands as processes (exit codes, output) and in-process (log serve). */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLogServe } from '../src/cli/log-command.js';
import { runReleaseBundle } from '../src/cli/release-command.js';
import { publicJwkOf } from '../src/measure/release.js';
import { buildEif, SECTION } from './helpers/eif-build.js';
import { PREDICATE, privateJwk } from './helpers/keys.js';
import { genuineNitroVectors } from './helpers/vectors.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const V = join(import.meta.dirname, 'vectors', 'measure');
const tmp = mkdtempSync(join(tmpdir(), 'veritee-measure-'));
const file = (name: string, content: string | Uint8Array) => {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
};
const json = (name: string, value: unknown) => file(name, JSON.stringify(value));

function run(args: string[]) {
  const out = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

const marlin = genuineNitroVectors().find((v) => v.id === 'marlin-aws-2024-12-13')!;
const marlinFile = join(marlin.dir, 'attestation_doc.cose');
const marlinAt = String(marlin.expected.verification_time.unix_ms / 1000);
const pcrs = marlin.expected.parsed.pcrs;
const nitroMeasurements = {
  version: 1,
  platforms: { nitro: { pcr0: pcrs['0'], pcr1: pcrs['1'], pcr2: pcrs['2'] } },
};

describe('veritee measure', () => {
  it('eif prints PCR0/1/2 (text and JSON); a broken file exits 2', () => {
    const te = new TextEncoder();
    const eif = file(
      'app.eif',
      buildEif([
        { type: SECTION.kernel, data: te.encode('kernel') },
        { type: SECTION.cmdline, data: te.encode('console=ttyS0') },
        { type: SECTION.ramdisk, data: te.encode('init') },
        { type: SECTION.ramdisk, data: te.encode('app') },
      ]),
    );
    const text = run(['measure', 'eif', eif]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^pcr0 {2}[0-9a-f]{96}$/m);
    const out = run(['measure', 'eif', eif, '--json']);
    expect(JSON.parse(out.stdout).measurements).toHaveProperty('pcr2');
    expect(run(['measure', 'eif', file('bad.eif', 'not an eif')]).code).toBe(2);
  });

  it('rtmr: 0 on a match, 1 naming the first diverging event, 2 for bad input', () => {
    const ok = run([
      'measure',
      'rtmr',
      '--event-log',
      join(V, 'ccel-cos113', 'ccel_data.dat'),
      '--quote',
      join(V, 'ccel-cos113', 'quote.bin'),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('MATCH');
    for (const [log, quote] of [
      ['dstack/dstack-verifier/quote-report.event_log.json', 'dstack/dstack-verifier/quote-report.quote.bin'],
      [
        'dstack/dstack-verifier/tdx-lite-getquote.event_log.json',
        'dstack/dstack-verifier/tdx-lite-getquote.quote.bin',
      ],
      ['dstack/near-mpc/event_log.json', 'dstack/near-mpc/quote.bin'],
    ]) {
      expect(run(['measure', 'rtmr', '--event-log', join(V, log!), '--quote', join(V, quote!)]).code).toBe(0);
    }
    const events = JSON.parse(readFileSync(join(V, 'dstack', 'near-mpc', 'event_log.json'), 'utf8'));
    events.find((e: { event: string }) => e.event === 'key-provider').event_payload = '00';
    const bad = run([
      'measure',
      'rtmr',
      '--event-log',
      json('tampered.json', events),
      '--quote',
      join(V, 'dstack', 'near-mpc', 'quote.bin'),
      '--json',
    ]);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.match).toBe(false);
    expect(report.firstDivergence).toMatchObject({
      rtmr: 3,
      reason: 'digest-mismatch',
      event: { name: 'key-provider' },
    });
    expect(run(['measure', 'rtmr', '--event-log', file('junk.json', '[{]')]).code).toBe(2);
    expect(
      run([
        'measure',
        'rtmr',
        '--event-log',
        join(V, 'ccel-cos113', 'ccel_data.dat'),
        '--quote',
        file('q.bin', 'zz'),
      ]).code,
    ).toBe(2);
    const replay = run(['measure', 'rtmr', '--event-log', join(V, 'ccel-cos113', 'ccel_data.dat')]);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('rtmr0 3fa2f61f');
  });
});

describe('veritee verify --expect', () => {
  it('exits 0 when the measurements match and 1 when they do not', () => {
    const good = run([
      'verify',
      marlinFile,
      '--at',
      marlinAt,
      '--expect',
      json('m.json', nitroMeasurements),
      '--json',
    ]);
    expect(good.code).toBe(0);
    expect(
      JSON.parse(good.stdout).checks.filter((c: { id: string }) => c.id.startsWith('expect.')),
    ).toHaveLength(3);
    const wrong = structuredClone(nitroMeasurements);
    wrong.platforms.nitro.pcr2 = '0'.repeat(96);
    const bad = run(['verify', marlinFile, '--at', marlinAt, '--expect', json('w.json', wrong), '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).errors[0].message).toContain('expect.nitro.pcr2');
    const tdxOnly = { version: 1, platforms: { tdx: { mrtd: '0'.repeat(96) } } };
    expect(run(['verify', marlinFile, '--at', marlinAt, '--expect', json('t.json', tdxOnly)]).code).toBe(1);
    expect(
      run(['verify', marlinFile, '--at', marlinAt, '--expect', json('x.json', { version: 2 })]).code,
    ).toBe(2);
  });
});

describe('veritee release and log', () => {
  const signer = privateJwk('ed25519');
  const logJwk = privateJwk('p256');
  let port = 0;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const running = await runLogServe({
      db: join(tmp, 'log.db'),
      key: json('log.jwk', logJwk),
      origin: 'test/releases',
      port: '0',
    });
    port = running.port;
    close = running.close;
  });
  afterAll(async () => close());

  it('signs, verifies, bundles and uses a release in verify --release', async () => {
    const signerFile = json('signer.jwk', signer);
    const signerPub = json('signer.pub.jwk', publicJwkOf(signer));
    const logPub = json('log.pub.jwk', publicJwkOf(logJwk));
    const signed = run([
      'release',
      'sign',
      '--key',
      signerFile,
      '--repository',
      PREDICATE.repository,
      '--commit',
      'a'.repeat(40),
      '--recipe-digest',
      'b'.repeat(64),
      '--measurements',
      json('rel.json', nitroMeasurements),
    ]);
    expect(signed.code, signed.stderr).toBe(0);
    const envelopeFile = file('release.dsse.json', signed.stdout);
    const verified = run(['release', 'verify', envelopeFile, '--signer', signerPub]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain('VERIFIED release of https://github.com/example/enclave-app');
    expect(
      run([
        'release',
        'verify',
        envelopeFile,
        '--signer',
        json('other.jwk', publicJwkOf(privateJwk('ed25519'))),
      ]).code,
    ).toBe(1);
    expect(
      run([
        'release',
        'verify',
        envelopeFile,
        '--signer',
        signerPub,
        '--repository',
        'https://github.com/other/app',
      ]).code,
    ).toBe(1);
    const tampered = JSON.parse(signed.stdout);
    tampered.payload = Buffer.from(
      Buffer.from(tampered.payload, 'base64').toString().replace('a'.repeat(40), 'c'.repeat(40)),
    ).toString('base64');
    expect(run(['release', 'verify', json('tampered.dsse.json', tampered), '--signer', signerPub]).code).toBe(
      1,
    );
    expect(run(['release', 'verify', file('junk.json', '{}'), '--signer', signerPub]).code).toBe(2);

    const bundle = await runReleaseBundle(envelopeFile, {
      log: `http://127.0.0.1:${port}`,
      logKey: logPub,
      logOrigin: 'test/releases',
      submit: true,
    });
    const bundleFile = file('release.bundle.json', bundle.stdout);
    const checked = run([
      'release',
      'verify',
      bundleFile,
      '--signer',
      signerPub,
      '--log-key',
      logPub,
      '--log-origin',
      'test/releases',
    ]);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout).toContain('inclusion proven');

    const policy = json('policy.json', {
      releases: {
        signer: publicJwkOf(signer),
        repository: PREDICATE.repository,
        log: { origin: 'test/releases', publicKey: publicJwkOf(logJwk) },
      },
    });
    const accepted = run([
      'verify',
      marlinFile,
      '--at',
      marlinAt,
      '--policy',
      policy,
      '--release',
      bundleFile,
      '--json',
    ]);
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(run(['verify', marlinFile, '--at', marlinAt, '--policy', policy]).code).toBe(1);
    // A record the log never saw cannot be bundled.
    const other = run([
      'release',
      'sign',
      '--key',
      signerFile,
      '--repository',
      PREDICATE.repository,
      '--commit',
      'd'.repeat(40),
      '--recipe-digest',
      'b'.repeat(64),
      '--measurements',
      json('rel.json', nitroMeasurements),
    ]);
    await expect(
      runReleaseBundle(file('other.dsse.json', other.stdout), {
        log: `http://127.0.0.1:${port}`,
        logKey: logPub,
        logOrigin: 'test/releases',
      }),
    ).rejects.toMatchObject({ code: 'LOG_ENTRY_MISSING' });
  });
});

describe('veritee release sigstore', () => {
  const S = join(V, 'sigstore');
  it('verifies offline (exit 0), refuses a wrong identity (exit 1), rejects bad input (exit 2)', () => {
    const bundle = JSON.parse(readFileSync(join(S, 'd.stmt.good.sigstore.json'), 'utf8'));
    bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps = [];
    const bundleFile = json('keyless.sigstore.json', bundle);
    const san =
      'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
    const issuer = 'https://token.actions.githubusercontent.com';
    const root = join(S, 'trusted_root.d.json');
    const ok = run([
      'release',
      'sigstore',
      bundleFile,
      '--trusted-root',
      root,
      '--identity',
      san,
      '--issuer',
      issuer,
      '--json',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout).subjects[0].name).toBe('pkg:npm/sigstore@2.1.0');
    const wrong = run([
      'release',
      'sigstore',
      bundleFile,
      '--trusted-root',
      root,
      '--identity',
      'https://github.com/x',
      '--issuer',
      issuer,
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain('SIG_INVALID');
    expect(run(['release', 'sigstore', bundleFile, '--trusted-root', root]).code).toBe(2);
    const hint = 'rJuYlKqs5PMzdPzjkZBg4BveZRpD97PBnngUXPZSlr8=';
    const managed = run([
      'release',
      'sigstore',
      join(S, 'intoto-canonical-log-entry.sigstore.json'),
      '--trusted-root',
      join(S, 'intoto-canonical-log-entry.trusted_root.json'),
      '--key',
      `${hint}=${join(S, 'intoto-canonical-log-entry.key.pub')}`,
    ]);
    expect(managed.code, managed.stderr).toBe(0);
    expect(managed.stdout).toContain('subject      a.txt sha256:a0cfc712');
  });
});
