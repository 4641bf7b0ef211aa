/**
 * `veritee/kms`: threshold key management for TEE applications — the enclave-side client (create,
 * recover, rotate, reshare), the owner's policy tools, sealed state, the audit-log checker, and the
 * node as a Web app over a store interface. Browser-safe; the SQLite/PostgreSQL drivers, the
 * filesystem blob store and the process runner live under `veritee/kms/node`.
 */
export { type AuditCheck, type AuditEntry, parseAuditEntry, verifyAuditChain } from './audit.js';
export {
  AppKey,
  type Attester,
  KmsClient,
  type KmsClientOptions,
  type RecoverReport,
  verifyPolicyChain,
} from './client.js';
export { canonicalJson } from './codec.js';
export { bindingDigest, derive, keyCheckKey, nodeIdOf } from './crypto.js';
export * from './messages.js';
export { nodeRefOf, publishPolicy, retireEpoch } from './owner.js';
export {
  type BlobStore,
  MemoryBlobStore,
  openBlob,
  parseSealedHeader,
  SealedState,
  sealBlob,
} from './sealed.js';
export {
  boundDataOf,
  createKmsNode,
  type KmsNodeOptions,
  type NodeIdentity,
  type NodeTrust,
  releasePolicyOf,
} from './server.js';
export { type KmsStore, type SqlDriver, SqlKmsStore } from './store.js';
