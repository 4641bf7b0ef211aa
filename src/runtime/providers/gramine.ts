/**
 * Gramine's attestation pseudo-filesystem (SGX): `/dev/attestation/attestation_type` says `dcap`, `epid`
 * or `none`; writing 64 bytes to `user_report_data` and then reading `quote` gives an SGX quote with
 * that report data. The files are per process, so this provider serialises its own requests.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkReportData, errnoOf, failed, unavailable } from './check.js';
import type { EvidenceProvider } from './types.js';

export const GRAMINE_ROOT = '/dev/attestation';
const MAX_QUOTE = 1 << 20;

export interface GramineProviderOptions {
  readonly root?: string;
}

export async function gramineAvailable(root = GRAMINE_ROOT): Promise<boolean> {
  try {
    await stat(join(root, 'attestation_type'));
    return true;
  } catch {
    return false;
  }
}

export function gramineProvider(options: GramineProviderOptions = {}): EvidenceProvider {
  const root = options.root ?? GRAMINE_ROOT;
  let queue: Promise<unknown> = Promise.resolve();
  const once = async (reportData: Uint8Array) => {
    let type: string;
    try {
      type = (await readFile(join(root, 'attestation_type'), 'utf8')).trim();
    } catch (error) {
      throw unavailable(
        'gramine',
        `${root}/attestation_type is missing`,
        `${errnoOf(error)}: not inside Gramine-SGX`,
      );
    }
    if (type === 'none')
      throw unavailable('gramine', 'remote attestation is disabled (sgx.remote_attestation = "none")');
    if (type !== 'dcap' && type !== 'epid')
      throw failed('gramine', `unknown attestation type "${type.slice(0, 20)}"`);
    try {
      await writeFile(join(root, 'user_report_data'), reportData);
    } catch (error) {
      throw failed('gramine', 'cannot write user_report_data', errnoOf(error));
    }
    let quote: Uint8Array;
    try {
      quote = new Uint8Array(await readFile(join(root, 'quote')));
    } catch (error) {
      throw failed('gramine', 'cannot read the quote', errnoOf(error));
    }
    if (quote.length === 0 || quote.length > MAX_QUOTE)
      throw failed('gramine', `quote of ${quote.length} bytes`);
    return { evidence: quote, platform: 'sgx' };
  };
  return {
    name: 'gramine',
    simulated: false,
    getEvidence(reportData) {
      checkReportData(reportData);
      const result = queue.then(() => once(reportData));
      queue = result.catch(() => {});
      return result;
    },
  };
}
