/** `veritee serve-verifier`: the HTTP verification API and the attestation explorer page. */
import { openStore } from '../collateral/store-open.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { startVerifierServer } from '../server/node.js';

export interface ServeVerifierOptions {
  readonly port: string;
  readonly host: string;
  readonly key?: string;
  readonly maxBody: string;
  readonly rate: string;
  readonly quiet?: boolean;
  /** Relay the collateral of this store (SQLite path or postgres:// URL) at GET /v1/collateral. */
  readonly store?: string;
}

function positiveInteger(value: string, option: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `${option} must be a non-negative integer, got "${value}"`,
    );
  }
  return number;
}

export async function runServeVerifier(options: ServeVerifierOptions): Promise<void> {
  const port = positiveInteger(options.port, '--port');
  const rate = positiveInteger(options.rate, '--rate');
  const { port: bound } = await startVerifierServer({
    port,
    host: options.host,
    keyPath: options.key,
    maxBodyBytes: positiveInteger(options.maxBody, '--max-body'),
    rateLimit: { rate, burst: rate * 2 },
    quiet: options.quiet,
    collateralStore: options.store === undefined ? undefined : openStore(options.store),
  });
  process.stderr.write(
    `veritee verifier listening on http://${options.host}:${bound}/ (explorer at /, API at /v1/verify; Ctrl-C stops)\n`,
  );
}
