/**
 * The AWS Nitro Secure Module (`/dev/nsm`). The NSM speaks CBOR through one ioctl (`NSM_IOCTL_RAW`), which
 * Node cannot issue by itself: the default driver is the `veritee-nsm` Node-API addon (native/nsm, built by
 * `npm ci` where a C toolchain is present), loaded only when a Nitro request is made, so nothing else in
 * veritee depends on it. A driver can be injected instead (tests, a helper process).
 *
 * This module builds the request (`{"Attestation": {user_data, nonce, public_key}}`), parses the response
 * strictly (`{"Attestation": {"document": bytes}}` or `{"Error": name}`), and turns driver failures
 * (errno codes) into typed errors. It does not verify the document: the relying party does.
 */
import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { CborMap, type CborValue, decodeCbor, encodeHead } from '../../cbor.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { checkReportData, errnoOf, failed, unavailable } from './check.js';
import type { EvidenceProvider } from './types.js';

export const NSM_DEVICE = '/dev/nsm';
/** Linux include/uapi/linux/nsm.h: NSM_REQUEST_MAX_SIZE, the largest request the driver takes. */
export const NSM_REQUEST_MAX_SIZE = 0x1000;
/** Linux include/uapi/linux/nsm.h: NSM_RESPONSE_MAX_SIZE, the largest response the NSM gives. */
export const NSM_RESPONSE_MAX_SIZE = 0x3000;
/** AWS Nitro Enclaves NSM API (Request::Attestation): user_data is at most 512 bytes. */
export const NSM_USER_DATA_MAX_SIZE = 512;
/** The addon's package name (native/nsm, an optional dependency). */
export const NSM_ADDON = 'veritee-nsm';

const BUILD_HINT =
  'npm ci builds it when python3, make and a C compiler are present; after installing them, run `npm rebuild veritee-nsm`';

/**
 * Sends one CBOR request to the NSM and returns its CBOR response. A failure that carries an errno name in
 * `code` (ENOENT, ENOTTY, EMSGSIZE, …) is reported as the matching typed error.
 */
export interface NsmDriver {
  request(cbor: Uint8Array): Promise<Uint8Array>;
}

export interface NitroProviderOptions {
  /** The device the default (addon) driver opens. Default `/dev/nsm`. */
  readonly device?: string;
  /** Replaces the addon (tests, a helper process); `device` is then unused. */
  readonly driver?: NsmDriver;
}

export interface NativeNsmDriverOptions {
  /** Default `/dev/nsm`. */
  readonly device?: string;
  /** Module specifier of the addon, resolved from this file. Default `veritee-nsm`. */
  readonly addon?: string;
}

/** What native/nsm/nsm.c exports. */
interface NsmAddon {
  request(device: string, request: Uint8Array): Promise<Uint8Array>;
  readonly REQUEST_MAX_SIZE: number;
  readonly RESPONSE_MAX_SIZE: number;
}

function text(value: string): Uint8Array {
  const bytes = new TextEncoder().encode(value);
  return Uint8Array.from([...encodeHead(3, bytes.length), ...bytes]);
}

/** CBOR of `{"Attestation": {"user_data": bytes, "nonce": null, "public_key": null}}`. */
export function nsmAttestationRequest(userData: Uint8Array): Uint8Array {
  if (!(userData instanceof Uint8Array) || userData.length > NSM_USER_DATA_MAX_SIZE) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `NSM user_data must be at most ${NSM_USER_DATA_MAX_SIZE} bytes`,
    );
  }
  return Uint8Array.from([
    ...encodeHead(5, 1),
    ...text('Attestation'),
    ...encodeHead(5, 3),
    ...text('user_data'),
    ...encodeHead(2, userData.length),
    ...userData,
    ...text('nonce'),
    0xf6,
    ...text('public_key'),
    0xf6,
  ]);
}

/** The attestation document (a copy) from an NSM response, or a typed error naming the NSM's error. */
export function parseNsmResponse(bytes: Uint8Array): Uint8Array {
  if (bytes.length > NSM_RESPONSE_MAX_SIZE) {
    throw failed('nitro', `NSM response larger than ${NSM_RESPONSE_MAX_SIZE} bytes`);
  }
  let value: CborValue;
  try {
    value = decodeCbor(bytes);
  } catch {
    throw failed('nitro', 'NSM response is not valid CBOR');
  }
  if (typeof value === 'string') throw failed('nitro', 'NSM answered with an error', value.slice(0, 60));
  if (!(value instanceof CborMap) || value.size !== 1) throw failed('nitro', 'unexpected NSM response shape');
  const error = value.get('Error');
  if (typeof error === 'string') throw failed('nitro', 'NSM answered with an error', error.slice(0, 60));
  const attestation = value.get('Attestation');
  const document =
    attestation instanceof CborMap && attestation.size === 1 ? attestation.get('document') : undefined;
  if (!(document instanceof Uint8Array) || document.length === 0) {
    throw failed('nitro', 'NSM response has no attestation document');
  }
  // A copy, as a plain Uint8Array: the decoder returns views, and a Buffer's slice() would be one too.
  return new Uint8Array(document);
}

const addons = new Map<string, NsmAddon>();

/** Loads and checks the addon; throws the loader's error when it is absent or not the expected build. */
function loadAddon(specifier: string): NsmAddon {
  const cached = addons.get(specifier);
  if (cached !== undefined) return cached;
  const loaded = createRequire(import.meta.url)(specifier) as Partial<NsmAddon> | undefined;
  if (
    typeof loaded?.request !== 'function' ||
    loaded.REQUEST_MAX_SIZE !== NSM_REQUEST_MAX_SIZE ||
    loaded.RESPONSE_MAX_SIZE !== NSM_RESPONSE_MAX_SIZE
  ) {
    throw new Error(`${specifier} does not export the expected NSM interface`);
  }
  addons.set(specifier, loaded as NsmAddon);
  return loaded as NsmAddon;
}

async function deviceExists(device: string): Promise<boolean> {
  try {
    await stat(device);
    return true;
  } catch {
    return false;
  }
}

/** The addon, or why not: outside an enclave that is the missing device, not the missing addon. */
async function addonOrExplain(specifier: string, device: string): Promise<NsmAddon> {
  try {
    return loadAddon(specifier);
  } catch (error) {
    if (!(await deviceExists(device))) {
      throw unavailable('nitro', `${device} is not present`, 'not inside an AWS Nitro Enclave');
    }
    throw unavailable(
      'nitro',
      `the NSM addon (${specifier}) is not built or does not load`,
      `${errnoOf(error)}; ${BUILD_HINT}`,
    );
  }
}

let errnoNames: Map<number, string> | undefined;

/** The addon reports `errno` as a number; Node's errno table names it (ENOENT, ENOTTY, …). */
function withErrnoName(error: unknown): unknown {
  const failure = error as { errno?: unknown; code?: unknown } | undefined;
  if (typeof failure?.errno === 'number' && failure.code === undefined) {
    errnoNames ??= new Map(Object.entries(constants.errno).map(([name, number]) => [number, name]));
    failure.code = errnoNames.get(failure.errno) ?? `errno ${failure.errno}`;
  }
  return error;
}

/** The default driver: one ioctl on `device` through the veritee-nsm addon, on libuv's thread pool. */
export function nativeNsmDriver(options: NativeNsmDriverOptions = {}): NsmDriver {
  const device = options.device ?? NSM_DEVICE;
  const specifier = options.addon ?? NSM_ADDON;
  return {
    async request(cbor) {
      const addon = await addonOrExplain(specifier, device);
      try {
        return await addon.request(device, cbor);
      } catch (error) {
        throw withErrnoName(error);
      }
    },
  };
}

const ABSENT = new Set(['ENOENT', 'ENODEV', 'ENXIO']);
const NOT_NSM = new Set(['ENOTTY', 'EINVAL']);
const DENIED = new Set(['EACCES', 'EPERM']);
const TOO_LARGE = new Set(['EMSGSIZE', 'ERR_NSM_RESPONSE_LENGTH']);

/** A driver failure as a typed error; `where` names the device (or the injected driver). */
function driverError(error: unknown, where: string): VeriteeError {
  if (error instanceof VeriteeError) return error;
  const code = errnoOf(error);
  if (ABSENT.has(code)) {
    return unavailable('nitro', `${where} is not present (${code})`, 'not inside an AWS Nitro Enclave');
  }
  if (NOT_NSM.has(code)) {
    return unavailable('nitro', `${where} is not an NSM device`, `${code} from the NSM ioctl`);
  }
  if (DENIED.has(code)) {
    return unavailable(
      'nitro',
      `${where}: permission denied (${code})`,
      'the process needs read and write access to the device',
    );
  }
  if (TOO_LARGE.has(code)) {
    return failed('nitro', `NSM response too large for its ${NSM_RESPONSE_MAX_SIZE}-byte buffer`, code);
  }
  return failed('nitro', `NSM request failed on ${where}`, code);
}

export function nitroProvider(options: NitroProviderOptions = {}): EvidenceProvider {
  const device = options.device ?? NSM_DEVICE;
  const driver = options.driver ?? nativeNsmDriver({ device });
  const where = options.driver === undefined ? device : 'the NSM driver';
  return {
    name: 'nitro',
    simulated: false,
    async getEvidence(reportData) {
      const request = nsmAttestationRequest(checkReportData(reportData));
      let response: unknown;
      try {
        response = await driver.request(request);
      } catch (error) {
        throw driverError(error, where);
      }
      if (!(response instanceof Uint8Array)) throw failed('nitro', 'the NSM driver returned no bytes');
      return { evidence: parseNsmResponse(response), platform: 'nitro' };
    },
  };
}
