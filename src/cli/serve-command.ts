/** `veritee serve <app module>`: run an app inside the enclave behind the attested channel. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { toHex } from '../bytes.js';
import { evpStatus } from '../crypto/node-evp.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import {
  createProvider,
  defaultSimulatedMeasurements,
  defaultSimulatedTdMeasurements,
  PROVIDER_NAMES,
  type ProviderName,
  SIMULATOR_FORMATS,
  type SimulatorFormat,
} from '../runtime/providers/index.js';
import { createEnclaveServer, type EnclaveHandler, type EnclaveServer } from '../runtime/server.js';
import { sha384 } from '../runtime/sim/nitro.js';

export interface ServeCommandOptions {
  readonly port?: string;
  readonly host?: string;
  readonly provider?: string;
  readonly simDir?: string;
  readonly simFormat?: string;
}

export function parsePort(text: string | undefined): number {
  if (text === undefined) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--port is required');
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `--port must be 0–65535, got "${text}"`);
  }
  return Number(text);
}

function parseProvider(text: string | undefined): ProviderName | 'auto' {
  const name = text ?? 'auto';
  if (name !== 'auto' && !PROVIDER_NAMES.includes(name as ProviderName)) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `--provider must be auto, ${PROVIDER_NAMES.join(', ')}`,
    );
  }
  return name as ProviderName | 'auto';
}

function parseSimFormat(text: string | undefined): SimulatorFormat {
  const format = text ?? 'nitro';
  if (!SIMULATOR_FORMATS.includes(format as SimulatorFormat)) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `--sim-format must be ${SIMULATOR_FORMATS.join(' or ')}`,
    );
  }
  return format as SimulatorFormat;
}

async function loadHandler(path: string): Promise<{ handler: EnclaveHandler; bytes: Uint8Array }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `cannot read app module "${path}"`, {
      details: (error as NodeJS.ErrnoException).code,
    });
  }
  let module: { default?: unknown; handler?: unknown };
  try {
    module = await import(pathToFileURL(resolve(path)).href);
  } catch (error) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `cannot load app module "${path}"`, {
      details: error instanceof Error ? error.message.slice(0, 200) : undefined,
    });
  }
  const handler = typeof module.default === 'function' ? module.default : module.handler;
  if (typeof handler !== 'function') {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `app module "${path}" exports no handler function`, {
      details: 'export default (request: Uint8Array) => Uint8Array | string',
    });
  }
  return { handler: handler as EnclaveHandler, bytes };
}

/** Starts the server; resolves with it once listening (the process then runs until a signal). */
export async function runServe(
  app: string | undefined,
  options: ServeCommandOptions,
): Promise<EnclaveServer> {
  if (app === undefined) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'missing app module');
  const port = parsePort(options.port);
  const providerName = parseProvider(options.provider);
  const format = parseSimFormat(options.simFormat);
  const { handler, bytes } = await loadHandler(app);
  const provider = await createProvider(providerName, {
    simulator: {
      dir: options.simDir,
      format,
      measurements: defaultSimulatedMeasurements(bytes),
      tdMeasurements: defaultSimulatedTdMeasurements(bytes),
    },
  });
  // Self-check before listening: one evidence request, so a missing or broken TEE interface is reported
  // now (exit 2) rather than at the first client's handshake.
  await provider.getEvidence(new Uint8Array(64));
  const server = createEnclaveServer(handler, {
    provider,
    log: (line) => process.stderr.write(`veritee serve: ${line}\n`),
  });
  const host = options.host ?? '127.0.0.1';
  const actual = await server.listen(port, host);
  const appMeasurement = format === 'tdx' ? 'MRTD' : 'PCR0';
  const simulated = provider.simulated
    ? ` (SIMULATOR ${format}; ${appMeasurement} = SHA-384 of the app = ${toHex(sha384(bytes))})`
    : '';
  // Before the listening line, which is what a supervisor (or a test) waits for.
  const evp = evpStatus();
  if (!evp.loaded) {
    process.stderr.write(
      `veritee serve: channel crypto on node:crypto's API (${evp.reason}): same results, slower; build it with npm rebuild veritee-evp\n`,
    );
  }
  process.stderr.write(
    `veritee serve: ${app} on http://${host}:${actual} (channel ws://${host}:${actual}/channel), provider ${provider.name}${simulated}\n`,
  );
  return server;
}
