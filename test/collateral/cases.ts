/** The real vectors the collateral tests serve from the mock PCS/KDS. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Policy } from '../../src/policy/types.js';
import { loadPolicy } from '../../src/verify.js';
import { DCAP_DIR, SNP_DIR } from './mock-server.js';

export interface DcapCase {
  readonly vector: string;
  readonly tee: 'sgx' | 'tdx';
  readonly fmspc: string;
  readonly ca: 'platform' | 'processor';
  readonly at: Date;
  readonly status: string;
  readonly policy: Policy;
  quote(): Uint8Array;
}

function dcap(
  vector: string,
  tee: 'sgx' | 'tdx',
  fmspc: string,
  ca: 'platform' | 'processor',
  status: string,
): DcapCase {
  const dir = join(DCAP_DIR, vector);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  return {
    vector,
    tee,
    fmspc,
    ca,
    at: new Date(expected.verification_time.iso),
    status,
    policy: loadPolicy({ tcb: { allowedStatuses: ['UpToDate', status] } }),
    quote: () => new Uint8Array(readFileSync(join(dir, 'quote.bin'))),
  };
}

export const DCAP_CASES: readonly DcapCase[] = [
  dcap('tdx/dcapqvl-tdx-v4-B0C06F000000-2025-06', 'tdx', 'b0c06f000000', 'platform', 'UpToDate'),
  dcap(
    'sgx/dcapqvl-sgx-v3-00A067110000-2025-06',
    'sgx',
    '00a067110000',
    'processor',
    'ConfigurationAndSWHardeningNeeded',
  ),
];

export interface SnpCase {
  readonly vector: string;
  readonly product: string;
  readonly vcekFile: string;
  readonly vcekPath: string;
  readonly at: Date;
  report(): Uint8Array;
}

function snp(vector: string, product: string, vcekFile: string): SnpCase {
  const dir = join(SNP_DIR, vector);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8'));
  const report = new Uint8Array(readFileSync(join(dir, 'report.bin')));
  const chipId = Buffer.from(report.subarray(0x1a0, 0x1e0)).toString('hex');
  const tcb = expected.parsed.reported_tcb;
  return {
    vector,
    product,
    vcekFile,
    vcekPath: `/vcek/v1/${product}/${chipId}?blSPL=${tcb.bl}&teeSPL=${tcb.tee}&snpSPL=${tcb.snp}&ucodeSPL=${tcb.ucode}`,
    at: new Date(expected.verification_time.iso),
    report: () => report,
  };
}

export const SNP_CASES: readonly SnpCase[] = [
  snp('gosevguest-milan-v2', 'Milan', 'vcek.der'),
  snp('trustee-azure-genoa-v3', 'Genoa', 'vcek.pem'),
];
