/** `veritee/nitro`: AWS Nitro Enclaves attestation documents. */
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { PlatformModule } from '../types.js';
import { parseNitroEvidence, verifyNitroEvidence } from './verify.js';

export { COSE_ALG, type CoseSign1, parseCoseSign1, sigStructure } from './cose.js';
export { NITRO_LIMITS, type NitroDocument, parseNitroDocument } from './document.js';
export {
  isNitroDebug,
  type NitroCertificateInfo,
  type NitroClaims,
  type NitroEvidence,
  type NitroVerifyOptions,
  parseNitroEvidence,
  verifyNitroEvidence,
} from './verify.js';

/** COSE_Sign1 starts with tag 18 (0xd2) or a 4-element array (0x84). */
function looksLikeCoseSign1(bytes: Uint8Array): boolean {
  return bytes.length > 1 && (bytes[0] === 0x84 || (bytes[0] === 0xd2 && bytes[1] === 0x84));
}

export const nitroPlatform: PlatformModule = {
  platforms: ['nitro'],
  detect: looksLikeCoseSign1,
  async verifyBytes(bytes, options) {
    if (!looksLikeCoseSign1(bytes)) {
      throw new VeriteeError(ErrorCode.FORMAT_UNKNOWN, 'not a COSE_Sign1 attestation document');
    }
    return verifyNitroEvidence(parseNitroEvidence(bytes), {
      at: options.at,
      anchors: options.anchors,
      simulatorRoots: options.simulatorRoots,
    });
  },
};
