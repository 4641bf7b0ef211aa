/** `veritee/nitro`: AWS Nitro Enclaves attestation documents. */
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { PlatformModule } from '../types.js';
import { looksLikeCoseSign1, NITRO_DESCRIPTOR } from './descriptor.js';
import { parseNitroEvidence, verifyNitroEvidence } from './verify.js';

export { COSE_ALG, type CoseSign1, parseCoseSign1, sigStructure } from './cose.js';
export { looksLikeCoseSign1 } from './descriptor.js';
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

export const nitroPlatform: PlatformModule = {
  ...NITRO_DESCRIPTOR,
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
