/**
 * The CLI drill and demo as real processes, on simulator evidence: `veritee kms drill` (5 nodes, t = 3,
 * kill 2) and `veritee kms demo`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SIMULATOR_WARNING } from '../../src/runtime/providers/sim.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');
// Separate processes on a shared machine: allow for load.
const PROCESS_TIMEOUT_MS = 170_000;

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const out = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    timeout: PROCESS_TIMEOUT_MS,
    env,
  });
  return { code: out.status, stdout: out.stdout, stderr: out.stderr };
}

describe('veritee kms drill', () => {
  it('passes every step with separate node processes and exits 0', { timeout: 180_000 }, () => {
    const out = run(['kms', 'drill', '--nodes', '5', '--threshold', '3', '--kill', '2']);
    expect(out.stdout).toContain(SIMULATOR_WARNING);
    expect(out.stdout).toContain('drill passed: 10 steps');
    for (const step of [
      'register app — 3-of-5, platform sim',
      'kill -9 2 node(s) during recovery',
      'restart every node: no share lost — 5/5 valid shares',
      'refused (KMS_POLICY_REJECTED, audited); recovered from the 4 that trust it',
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
    for (const [nodes, threshold, kill] of [
      ['3', '2', '2'],
      ['3', '3', '0'], // no node to spare for the corrupted-share step
    ]) {
      const out = run(['kms', 'drill', '--nodes', nodes!, '--threshold', threshold!, '--kill', kill!]);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain('ARGUMENT_INVALID');
    }
  });
});

describe('veritee kms demo', () => {
  it('creates, loses and recovers the key, reads sealed state back, refuses a modified image', {
    timeout: 180_000,
  }, () => {
    // The demo uses the installation's simulator root; point it at a fresh directory.
    const simDir = mkdtempSync(join(tmpdir(), 'veritee-kms-demo-sim-'));
    const out = run(['kms', 'demo'], { ...process.env, VERITEE_SIM_DIR: simDir });
    expect(out.stdout).toContain(`${SIMULATOR_WARNING} (format nitro, roots in ${simDir})`);
    expect(out.stdout).toContain(`--trust-sim): platform sim, NOT hardware`);
    expect(out.stdout).toContain('same signing key');
    expect(out.stdout).toContain('{"balance": 42}');
    expect(out.stdout).toContain('refused, KMS_NOT_ENOUGH_SHARES (every node: KMS_POLICY_REJECTED, audited)');
    expect(out.code).toBe(0);
  });
});
