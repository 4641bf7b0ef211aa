/** The CLI drill and demo as real processes: `veritee kms drill` (5 nodes, t = 3, kill 2) and `veritee kms demo`. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

function run(args: string[]) {
  const out = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 90_000 });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('veritee kms drill', () => {
  it('passes every step with separate node processes and exits 0', () => {
    const out = run(['kms', 'drill', '--nodes', '5', '--threshold', '3', '--kill', '2']);
    expect(out.stdout).toContain('drill passed');
    for (const step of [
      'kill -9 2 node(s) during recovery',
      'restart every node: no share lost — 5/5 valid shares',
      'detected KMS_SHARE_CORRUPT',
      'KMS_NOT_ENOUGH_SHARES',
      'refused by all 5 nodes (KMS_POLICY_REJECTED, audited)',
      'audit logs verify',
    ]) {
      expect(out.stdout).toContain(step);
    }
    expect(out.stdout).not.toContain('FAIL');
    expect(out.code).toBe(0);
  });

  it('refuses impossible parameters with a usage exit code', () => {
    const out = run(['kms', 'drill', '--nodes', '3', '--threshold', '3', '--kill', '1']);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('ARGUMENT_INVALID');
  });
});

describe('veritee kms demo', () => {
  it('creates, loses and recovers the key, reads sealed state back, refuses a modified image', () => {
    const out = run(['kms', 'demo']);
    expect(out.stdout).toContain('same signing key');
    expect(out.stdout).toContain('{"balance": 42}');
    expect(out.stdout).toContain('refused, KMS_NOT_ENOUGH_SHARES (every node: KMS_POLICY_REJECTED, audited)');
    expect(out.code).toBe(0);
  });
});
