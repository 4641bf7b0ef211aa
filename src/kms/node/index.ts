/**
 * `veritee/kms/node`: the Node-only parts of the KMS — SQLite and PostgreSQL drivers, node keys and
 * listener, the filesystem blob store for sealed state, and the simulated enclaves of the drill and
 * the demo.
 */
export { FileBlobStore } from './blobs.js';
export { openPostgres } from './postgres.js';
export {
  loadOrCreateNodeIdentity,
  loadTrustRoots,
  openStore,
  type StartKmsNodeOptions,
  startKmsNode,
} from './runtime.js';
export { type ReleasePolicyJson, type SimulatedApp, simulatedApp } from './sim-enclave.js';
export { openSqlite } from './sqlite.js';
