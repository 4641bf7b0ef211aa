/** `veritee/pki`: X.509 certificates, chains, CRLs and the pinned vendor roots. */
export {
  type Certificate,
  type Extension,
  Oid,
  parseCertificate,
  parsePemCertificates,
  pemToDer,
  publicKeyOf,
  verifySignedBy,
} from './certificate.js';
export {
  type ChainOptions,
  checkValidity,
  clearChainCache,
  isSimulatorAnchor,
  makeTrustAnchor,
  SIMULATOR_ORGANIZATION,
  sameAnchor,
  type TrustAnchor,
  type VerifiedChain,
  verifyChain,
} from './chain.js';
export {
  type Crl,
  type CrlCheckOptions,
  checkCrlCovers,
  checkCrlCurrent,
  checkNotRevoked,
  checkSerialNotRevoked,
  parseCrl,
  verifyCrl,
  verifyCrlSignature,
} from './crl.js';
export * as der from './der.js';
export * from './embedded.js';
export { customAnchor, loadPinnedCertificate, pinnedAnchor } from './roots.js';
