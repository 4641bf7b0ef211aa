/**
 * Provider selection: `auto` tries real hardware first — configfs-tsm, the dstack agent, Gramine, the
 * Nitro NSM — and falls back to the simulator, loudly, only when none is present (and only if allowed).
 */

import { stat } from 'node:fs/promises';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { DSTACK_SOCKETS, dstackProvider, findDstackSocket } from './dstack.js';
import { GRAMINE_ROOT, gramineAvailable, gramineProvider } from './gramine.js';
import { NSM_DEVICE, type NsmDriver, nitroProvider } from './nitro.js';
import { type SimulatorProviderOptions, simulatorProvider } from './sim.js';
import { TSM_REPORT_ROOT, type TsmFileSystem, tsmAvailable, tsmProvider } from './tsm.js';
import { type EvidenceProvider, PROVIDER_NAMES, type ProviderName } from './types.js';

export interface ProviderOptions {
  readonly tsmRoot?: string;
  readonly tsmFs?: TsmFileSystem;
  readonly dstackSockets?: readonly string[];
  readonly gramineRoot?: string;
  readonly nsmDevice?: string;
  /** Replaces the veritee-nsm addon for the `nitro` provider (tests, a helper process). */
  readonly nsmDriver?: NsmDriver;
  readonly simulator?: SimulatorProviderOptions;
  /** For `auto`: fall back to the simulator when no TEE is found. Default true. */
  readonly allowSimulator?: boolean;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Which real TEE interface is present, in order of preference; undefined when none is. */
export async function detectTee(
  options: ProviderOptions = {},
): Promise<Exclude<ProviderName, 'sim'> | undefined> {
  if (await tsmAvailable({ root: options.tsmRoot ?? TSM_REPORT_ROOT, fs: options.tsmFs })) return 'tsm';
  if ((await findDstackSocket(options.dstackSockets ?? DSTACK_SOCKETS)) !== undefined) return 'dstack';
  if (await gramineAvailable(options.gramineRoot ?? GRAMINE_ROOT)) return 'gramine';
  if (await exists(options.nsmDevice ?? NSM_DEVICE)) return 'nitro';
  return undefined;
}

/** A provider by name; `auto` detects (see the module comment). */
export async function createProvider(
  name: ProviderName | 'auto',
  options: ProviderOptions = {},
): Promise<EvidenceProvider> {
  if (name === 'auto') {
    const found = await detectTee(options);
    if (found !== undefined) return createProvider(found, options);
    if (options.allowSimulator === false) {
      throw new VeriteeError(
        ErrorCode.PROVIDER_UNAVAILABLE,
        'no TEE found and the simulator is not allowed',
        {
          details: `looked for ${TSM_REPORT_ROOT}, ${DSTACK_SOCKETS.join(', ')}, ${GRAMINE_ROOT}, ${NSM_DEVICE}`,
        },
      );
    }
    return createProvider('sim', options);
  }
  switch (name) {
    case 'tsm':
      return tsmProvider({ root: options.tsmRoot, fs: options.tsmFs });
    case 'dstack': {
      const socketPath = await findDstackSocket(options.dstackSockets ?? DSTACK_SOCKETS);
      return dstackProvider(socketPath === undefined ? {} : { socketPath });
    }
    case 'gramine':
      return gramineProvider({ root: options.gramineRoot });
    case 'nitro':
      return nitroProvider({ device: options.nsmDevice, driver: options.nsmDriver });
    case 'sim':
      return simulatorProvider(options.simulator);
    default:
      throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `unknown provider "${String(name)}"`, {
        details: `one of auto, ${PROVIDER_NAMES.join(', ')}`,
      });
  }
}

export { dstackProvider, findDstackSocket } from './dstack.js';
export { gramineProvider } from './gramine.js';
export {
  type NativeNsmDriverOptions,
  type NitroProviderOptions,
  NSM_ADDON,
  NSM_DEVICE,
  NSM_REQUEST_MAX_SIZE,
  NSM_RESPONSE_MAX_SIZE,
  type NsmDriver,
  nativeNsmDriver,
  nitroProvider,
  nsmAttestationRequest,
  parseNsmResponse,
} from './nitro.js';
export {
  defaultSimulatedMeasurements,
  defaultSimulatedTdMeasurements,
  SIM_TDX_COLLATERAL,
  SIMULATOR_FORMATS,
  SIMULATOR_WARNING,
  type SimulatorFormat,
  type SimulatorProviderOptions,
  simulatorProvider,
} from './sim.js';
export { nodeTsmFileSystem, type TsmFileSystem, tsmProvider } from './tsm.js';
export type { EvidenceProvider, ProviderName } from './types.js';
export { PROVIDER_NAMES } from './types.js';
