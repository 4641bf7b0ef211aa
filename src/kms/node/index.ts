/**
 * `veritee/kms/node`: the Node-only parts of the KMS — SQLite and PostgreSQL drivers, node keys and
 * listener, the filesystem blob store for sealed state, and the throw-away attester of the drill.
 */
export { FileBlobStore } from './blobs.js';
export { createDevAttester, DEFAULT_IMAGE, type DevAttester } from './dev-attester.js';
export { openPostgres } from './postgres.js';
export {
  loadOrCreateNodeIdentity,
  loadTrustRoots,
  openStore,
  type StartKmsNodeOptions,
  startKmsNode,
} from './runtime.js';
export { openSqlite } from './sqlite.js';
