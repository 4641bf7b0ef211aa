/**
 * `veritee/measure`: from source to measurement. EIF PCRs, TDX event-log replay, measurements.json,
 * signed release records (in-toto in DSSE), the `releases` policy and the transparency log (RFC 9162).
 * Browser-safe; the SQLite store and the HTTP endpoint are Node-only (`src/server/`).
 */
export { crc32 } from './crc32.js';
export {
  type EifHeader,
  type EifImage,
  type EifPcrs,
  type EifSection,
  type EifSectionType,
  type EifSignatureEntry,
  eifPcrs,
  measureEif,
  nitroPcr,
  parseEif,
  verifyEifSignature,
} from './eif.js';
export {
  DSTACK_RUNTIME_EVENT_TYPE,
  describeEvent,
  dstackEventDigest,
  type EventLog,
  type MeasuredEvent,
  parseDstackEventLog,
  parseEventLog,
  parseTcgEventLog,
  type RtmrIndex,
} from './eventlog.js';
export {
  expectedMeasurementChecks,
  type MeasurementsFile,
  type PlatformMeasurements,
  parseMeasurementsFile,
  withChecks,
} from './measurements.js';
export {
  buildReleaseStatement,
  type DsseEnvelope,
  keyIdOf,
  pae,
  parseEnvelope,
  parseReleaseStatement,
  publicJwkOf,
  type ReleasePredicate,
  type ReleaseStatement,
  releaseCovers,
  serializeEnvelope,
  signRelease,
  type TrustedKey,
  trustedKeyFromJwk,
  type VerifiedRelease,
  verifyRelease,
} from './release.js';
export {
  appraiseReleases,
  type LoggedRelease,
  logEntryOf,
  parseReleaseBundle,
  parseReleasesPolicy,
  type ReleaseBundle,
  type ReleasesPolicy,
  releaseBundleToJson,
  verifyReleaseBundle,
} from './releases.js';
export {
  assertLogMatchesRtmrs,
  compareRtmrs,
  type Divergence,
  extendRtmr,
  quoteRtmrs,
  type Replay,
  type RtmrComparison,
  replayEventLog,
} from './rtmr.js';
export {
  checkpointText,
  type SignedTreeHead,
  signTreeHead,
  type TreeHead,
  treeHeadFromJson,
  treeHeadToJson,
  verifyTreeHead,
} from './translog/checkpoint.js';
export {
  checkConsistency,
  checkInclusion,
  type InclusionProof,
  LogClient,
} from './translog/client.js';
export { TransparencyLog } from './translog/log.js';
export {
  consistencyPath,
  inclusionPath,
  leafHash,
  nodeHash,
  verifyConsistency,
  verifyInclusion,
} from './translog/merkle.js';
export { type LogStore, MemoryLogStore } from './translog/store.js';
