/**
 * `veritee/collateral`: verified, cached, fetched endorsements (browser-safe part). The SQLite and
 * PostgreSQL stores are Node-only: `src/collateral/store-sqlite.ts`, `src/collateral/store-postgres.ts`.
 */

export {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  exportBundle,
  type ImportResult,
  importBundle,
  parseBundle,
} from './bundle.js';
export {
  type FetchLike,
  HttpClient,
  type HttpClientOptions,
  type HttpResponse,
  parseRetryAfter,
  type RetryEvent,
} from './http.js';
export {
  contentHashOf,
  crlDer,
  type ItemVerifyOptions,
  type RawItem,
  verifyItem,
  verifyItemAuthentic,
} from './items.js';
export { MemoryCollateralStore } from './memory.js';
export {
  AMD_KDS_URL,
  INTEL_PCS_URL,
  INTEL_ROOT_CA_CRL_URL,
  KdsProvider,
  type KdsProviderOptions,
  PcsProvider,
  type PcsProviderOptions,
  type TcbUpdate,
} from './providers.js';
export {
  type CollateralNeeds,
  CollateralResolver,
  type CollateralResolverOptions,
  collateralNeeds,
  type ResolverEvent,
} from './resolver.js';
export {
  COLLATERAL_KINDS,
  type CollateralItem,
  type CollateralKind,
  type CollateralStore,
  isCollateralKind,
  pickValid,
  unchangedSpan,
} from './types.js';
