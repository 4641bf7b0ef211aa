/** The short human report of `veritee verify` (without --json). */
import type { AttestationResult } from '../result.js';

const PLATFORM_NAMES: Record<string, string> = {
  nitro: 'AWS Nitro Enclaves attestation document',
  sgx: 'Intel SGX DCAP quote',
  tdx: 'Intel TDX DCAP quote',
  'sev-snp': 'AMD SEV-SNP attestation report',
  sim: 'SIMULATOR evidence (not real hardware)',
  unknown: 'unrecognised evidence',
};

interface ChainEntry {
  readonly subject: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

function chainOf(result: AttestationResult): readonly ChainEntry[] {
  const certificates = result.claims.certificates;
  return Array.isArray(certificates) ? (certificates as ChainEntry[]) : [];
}

export function formatReport(result: AttestationResult, color: boolean): string {
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const verdictColor = result.verdict === 'affirming' ? '32' : result.verdict === 'warning' ? '33' : '31';
  const lines: string[] = [];
  lines.push(`${paint('1', 'veritee')} · ${PLATFORM_NAMES[result.platform] ?? result.platform}`);
  lines.push(
    `verdict       ${paint(`1;${verdictColor}`, result.verdict.toUpperCase())}${result.verified ? '' : ' (verification failed)'}`,
  );
  lines.push(`checked at    ${result.verifiedAt}`);
  if (result.validUntil !== null) lines.push(`valid until   ${result.validUntil}`);
  if (result.platform === 'sim')
    lines.push(paint('1;33', 'SIMULATOR: this evidence proves nothing about real hardware'));
  const moduleId = result.claims.moduleId;
  if (typeof moduleId === 'string') lines.push(`module        ${moduleId}`);
  if (typeof result.claims.timestamp === 'string') lines.push(`timestamp     ${result.claims.timestamp}`);
  lines.push(`debug         ${result.debug ? paint('31', 'yes') : 'no'}`);
  if (result.tcb !== undefined) {
    const advisories = result.tcb.advisoryIds.length > 0 ? ` (${result.tcb.advisoryIds.join(', ')})` : '';
    lines.push(`tcb           ${result.tcb.status}${advisories}`);
  }
  const measurements = Object.entries(result.measurements);
  if (measurements.length > 0) {
    lines.push('measurements');
    // All-zero registers (unused PCRs, empty RTMRs) are folded into one line; --json lists every one.
    const isZero = (value: string) => /^0+$/.test(value);
    const shown = measurements.filter(([, value]) => !isZero(value));
    const width = Math.max(0, ...shown.map(([name]) => name.length));
    for (const [name, value] of shown) lines.push(`  ${name.padEnd(width)}  ${value}`);
    const zero = measurements.filter(([, value]) => isZero(value)).map(([name]) => name);
    if (zero.length > 0) lines.push(`  all zero: ${zero.join(', ')}`);
  }
  for (const [label, value] of [
    ['report data', result.reportData],
    ['user data', result.userData],
    ['public key', result.publicKey],
    ['nonce', result.nonce],
  ] as const) {
    if (value !== undefined)
      lines.push(
        `${label.padEnd(13)} ${value.length > 64 ? `${value.slice(0, 64)}… (${value.length / 2} bytes)` : value}`,
      );
  }
  const chain = chainOf(result);
  if (chain.length > 0) {
    lines.push('certificate chain (leaf → root)');
    for (const entry of chain) lines.push(`  ${entry.subject}\n      ${entry.notBefore} → ${entry.notAfter}`);
  }
  lines.push('checks');
  for (const check of result.checks)
    lines.push(`  ${check.ok ? paint('32', '✓') : paint('31', '✗')} ${check.id}: ${check.detail}`);
  for (const warning of result.warnings)
    lines.push(`${paint('33', 'warning')} ${warning.code}: ${warning.message}`);
  for (const error of result.errors) lines.push(`${paint('31', 'error')}   ${error.code}: ${error.message}`);
  return `${lines.join('\n')}\n`;
}
