import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyEarJwt } from '../src/policy/ear.js';
import { genuineNitroVectors, nitroVectors, VECTORS } from './helpers/vectors.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const tmp = mkdtempSync(join(tmpdir(), 'veritee-cli-'));

function run(args: string[], input?: string | Uint8Array) {
  const out = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

const marlin = genuineNitroVectors().find((v) => v.id === 'marlin-aws-2024-12-13')!;
const marlinFile = join(marlin.dir, 'attestation_doc.cose');
const marlinAt = marlin.expected.verification_time.unix_ms / 1000;

describe('veritee verify', () => {
  it('--demo verifies the bundled document and prints a report (exit 0)', () => {
    const out = run(['verify', '--demo']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('AWS Nitro Enclaves attestation document');
    expect(out.stdout).toContain('AFFIRMING');
    expect(out.stdout).toContain(`pcr0  ${marlin.expected.parsed.pcrs['0']}`);
    expect(out.stdout).toContain('all zero: pcr3, pcr5');
    expect(out.stdout).toContain('CN=aws.nitro-enclaves');
  });

  it('--json prints exactly one JSON object with the result fields', () => {
    const out = run(['verify', marlinFile, '--at', String(marlinAt), '--json']);
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout);
    for (const key of [
      'platform',
      'verified',
      'verdict',
      'measurements',
      'debug',
      'checks',
      'errors',
      'warnings',
      'validUntil',
    ]) {
      expect(result).toHaveProperty(key);
    }
    expect(result.measurements.pcr0).toBe(marlin.expected.parsed.pcrs['0']);
    expect(out.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('accepts RFC 3339 times, stdin, base64 and hex', () => {
    const iso = new Date(marlin.expected.verification_time.unix_ms).toISOString();
    const base64 = Buffer.from(marlin.bytes).toString('base64');
    expect(run(['verify', '-', '--at', iso, '--json'], base64).code).toBe(0);
    expect(run(['verify', '-', '--at', iso, '--json'], Buffer.from(marlin.bytes).toString('hex')).code).toBe(
      0,
    );
    expect(run(['verify', '-', '--at', iso, '--json'], marlin.bytes).code).toBe(0);
  });

  it('exits 1 when verification fails or the policy contraindicates', () => {
    expect(run(['verify', marlinFile, '--json']).code).toBe(1); // now: the certificates expired long ago
    const mock = nitroVectors().find((v) => v.id.startsWith('marlin-mock'))!;
    const out = run([
      'verify',
      join(mock.dir, 'attestation_doc.cose'),
      '--at',
      String(mock.expected.verification_time.unix),
    ]);
    expect(out.code).toBe(1);
    expect(out.stdout).toContain('CHAIN_UNTRUSTED_ROOT');
    const policy = join(tmp, 'policy.json');
    writeFileSync(policy, JSON.stringify({ measurements: { pcr0: '00'.repeat(48) } }));
    const rejected = run(['verify', marlinFile, '--at', String(marlinAt), '--policy', policy, '--json']);
    expect(rejected.code).toBe(1);
    expect(JSON.parse(rejected.stdout).verdict).toBe('contraindicated');
  });

  it('exits 2 on unusable input or arguments, without a stack trace', () => {
    const cases: [string[], string?][] = [
      [['verify', join(tmp, 'missing.cose')]],
      [['verify', '-'], 'this is not evidence'],
      [['verify', '-'], '00ff00ff'],
      [['verify', marlinFile, '--at', 'yesterday']],
      [['verify', marlinFile, '--policy', join(VECTORS, 'README.md')]],
      [['verify', marlinFile, '--json', '--ear']],
      [['verify', '--bogus']],
      [['verify']],
    ];
    for (const [args, input] of cases) {
      const out = run(args, input);
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr + out.stdout).not.toMatch(/\n\s+at /);
    }
    const policy = join(tmp, 'bad-policy.json');
    writeFileSync(policy, JSON.stringify({ measurment: {} }));
    const bad = run(['verify', marlinFile, '--policy', policy]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('POLICY_INVALID: unknown policy key "measurment"');
  });

  it('--ear prints EAR claims; --ear-key signs a JWT that verifies', async () => {
    const claims = JSON.parse(run(['verify', marlinFile, '--at', String(marlinAt), '--ear']).stdout);
    expect(claims.submods.nitro['ear.status']).toBe('affirming');
    const key = join(VECTORS, 'ear', 'veraison-ear', 'keys', 'skey.json');
    const out = run(['verify', marlinFile, '--at', String(marlinAt), '--ear', '--ear-key', key]);
    expect(out.code).toBe(0);
    const pkey = (
      await import(join(VECTORS, 'ear', 'veraison-ear', 'keys', 'pkey.json'), { with: { type: 'json' } })
    ).default;
    const ear = await verifyEarJwt(out.stdout.trim(), { keys: [pkey], at: new Date(marlinAt * 1000) });
    expect(ear.statuses).toEqual({ nitro: 'affirming' });
  });

  it('--help and --version exit 0', () => {
    expect(run(['--version']).code).toBe(0);
    expect(run(['verify', '--help']).code).toBe(0);
  });
});
