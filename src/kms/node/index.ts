/**
 * `veritee/kms/node`: the Node-only parts of the KMS — SQLite and PostgreSQL drivers, node keys and
 * listener, the filesystem and S3-compatible blob stores for sealed state, and the simulated enclaves
 * of the drill and the demo.
 */
export { FileBlobStore, openBlobStore } from './blobs.js';
export { openPostgres } from './postgres.js';
export {
  loadOrCreateNodeIdentity,
  loadTrustRoots,
  openStore,
  type StartKmsNodeOptions,
  startKmsNode,
} from './runtime.js';
export {
  amzDateOf,
  parseS3Location,
  S3BlobStore,
  type S3BlobStoreOptions,
  type S3Location,
  type SigV4Credentials,
  s3OptionsFromEnv,
  signV4,
} from './s3.js';
export { type ReleasePolicyJson, type SimulatedApp, simulatedApp } from './sim-enclave.js';
export { openSqlite } from './sqlite.js';
