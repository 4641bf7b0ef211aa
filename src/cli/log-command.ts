/** `veritee log serve`: the release transparency log over HTTP, stored in SQLite. */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { ErrorCode, VeriteeError } from '../errors.js';
import { publicJwkOf, trustedKeyFromJwk } from '../measure/release.js';
import { TransparencyLog } from '../measure/translog/log.js';
import { createLogHandler } from '../server/translog.js';
import { SqliteLogStore } from '../server/translog-store.js';
import { readJsonFile } from './io.js';

export interface LogServeOptions {
  readonly db: string;
  readonly key: string;
  readonly origin: string;
  readonly port?: string;
  readonly host?: string;
}

export interface RunningLog {
  readonly port: number;
  readonly keyid: string;
  close(): Promise<void>;
}

export async function runLogServe(options: LogServeOptions): Promise<RunningLog> {
  const port = Number(options.port ?? '8081');
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--port must be 0–65535');
  const privateJwk = readJsonFile(options.key, 'log key') as JsonWebKey;
  const keyid = trustedKeyFromJwk(publicJwkOf(privateJwk), options.key).keyid;
  const store = new SqliteLogStore(options.db, options.origin);
  const log = new TransparencyLog(store, { origin: options.origin, privateJwk });
  await log.treeHead(); // fails early on an unusable key
  const handler = createLogHandler(log);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const instance = serve({ fetch: handler, port, hostname: options.host ?? '127.0.0.1' }, () =>
      resolve(instance),
    );
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    keyid,
    close: () =>
      new Promise<void>((resolve) =>
        server.close(() => {
          store.close();
          resolve();
        }),
      ),
  };
}
