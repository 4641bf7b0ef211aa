/**
 * Node runtime for the verifier service: the service key on disk, static explorer files, the socket
 * address for rate limiting, pino logs, and the HTTP listener.
 */

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { pino } from 'pino';
import type { CollateralStore } from '../collateral/types.js';
import { generateJwkPair } from '../crypto/node-keys.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { createVerifierApp, type VerifierAppOptions } from './app.js';
import { configDir } from './config-dir.js';

/** Loads the service's private JWK, or creates an ES256 key (0600) at `path` when it does not exist. */
export function loadOrCreateServiceKey(path = join(configDir(), 'verifier-key.jwk')): {
  key: JsonWebKey;
  created: boolean;
} {
  if (existsSync(path)) {
    try {
      const key = JSON.parse(readFileSync(path, 'utf8')) as JsonWebKey;
      if (typeof key.d !== 'string') throw new Error('no private member');
      return { key, created: false };
    } catch (error) {
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `service key "${path}" is not a private JWK`, {
        details: error instanceof Error ? error.message : undefined,
      });
    }
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const key = generateJwkPair('ec', { namedCurve: 'P-256' }).privateJwk as JsonWebKey;
  writeFileSync(path, `${JSON.stringify(key)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { key, created: true };
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
};

/** Serves files from `root` (the built explorer); `/` is index.html. Never leaves `root`. */
export function staticFilesFrom(root: string): NonNullable<VerifierAppOptions['staticFiles']> {
  return async (path) => {
    const relative = normalize(decodeURIComponent(path === '/' ? '/index.html' : path)).replace(
      /^([/\\])+/,
      '',
    );
    const file = join(root, relative);
    if (!file.startsWith(root + sep) || !existsSync(file)) return undefined;
    const type = CONTENT_TYPES[extname(file)];
    if (type === undefined) return undefined;
    return new Response(readFileSync(file), {
      headers: {
        'content-type': type,
        'content-security-policy':
          "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
        'x-content-type-options': 'nosniff',
      },
    });
  };
}

export const EXPLORER_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

export interface StartOptions {
  readonly port: number;
  readonly host?: string;
  readonly keyPath?: string;
  readonly quiet?: boolean;
  readonly maxBodyBytes?: number;
  readonly rateLimit?: { rate: number; burst: number };
  /** Relay this store's verified collateral at GET /v1/collateral. */
  readonly collateralStore?: CollateralStore;
}

export async function startVerifierServer(options: StartOptions) {
  const logger = pino({ level: options.quiet ? 'silent' : 'info', base: { service: 'veritee-verifier' } });
  const { key, created } = loadOrCreateServiceKey(options.keyPath);
  const { app, jwks } = createVerifierApp({
    signingKey: key,
    logger,
    maxBodyBytes: options.maxBodyBytes,
    rateLimit: options.rateLimit,
    clientOf: (c) =>
      (c.env as { incoming?: { socket?: { remoteAddress?: string } } }).incoming?.socket?.remoteAddress ??
      'unknown',
    staticFiles: staticFilesFrom(EXPLORER_DIR),
    collateralStore: options.collateralStore,
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const instance = serve(
      { fetch: app.fetch, port: options.port, hostname: options.host ?? '127.0.0.1' },
      () => resolve(instance),
    );
  });
  const address = server.address() as AddressInfo;
  logger.info(
    { port: address.port, host: address.address, kid: jwks.keys[0]!.kid, keyCreated: created },
    'listening',
  );
  return {
    server,
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
