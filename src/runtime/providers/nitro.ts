/**
 * The AWS Nitro Secure Module (`/dev/nsm`). The NSM speaks CBOR through an ioctl, which Node cannot
 * issue without a native addon; veritee does not ship one, so a driver is injected: anything that sends
 * one raw request to the device and returns the raw response (e.g. a small node-gyp addon around
 * `ioctl(fd, NSM_IOCTL_REQUEST, …)`, or a helper process). This module builds the request
 * (`{"Attestation": {user_data, nonce, public_key}}`) and parses the response strictly
 * (`{"Attestation": {"document": bytes}}` or `{"Error": name}`).
 */
import { stat } from 'node:fs/promises';
import { CborMap, type CborValue, decodeCbor, encodeHead } from '../../cbor.js';
import { checkReportData, failed, unavailable } from './check.js';
import type { EvidenceProvider } from './types.js';

export const NSM_DEVICE = '/dev/nsm';
const MAX_RESPONSE = 16 * 1024;

/** Sends one CBOR request to the NSM and returns its CBOR response. */
export interface NsmDriver {
  request(cbor: Uint8Array): Promise<Uint8Array>;
}

export interface NitroProviderOptions {
  readonly device?: string;
  readonly driver?: NsmDriver;
}

function text(value: string): Uint8Array {
  const bytes = new TextEncoder().encode(value);
  return Uint8Array.from([...encodeHead(3, bytes.length), ...bytes]);
}

/** CBOR of `{"Attestation": {"user_data": bytes, "nonce": null, "public_key": null}}`. */
export function nsmAttestationRequest(userData: Uint8Array): Uint8Array {
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

/** The attestation document from an NSM response, or a typed error naming the NSM's error. */
export function parseNsmResponse(bytes: Uint8Array): Uint8Array {
  if (bytes.length > MAX_RESPONSE) throw failed('nitro', `NSM response larger than ${MAX_RESPONSE} bytes`);
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
  const document = attestation instanceof CborMap ? attestation.get('document') : undefined;
  if (!(document instanceof Uint8Array) || document.length === 0) {
    throw failed('nitro', 'NSM response has no attestation document');
  }
  return document;
}

export function nitroProvider(options: NitroProviderOptions = {}): EvidenceProvider {
  const device = options.device ?? NSM_DEVICE;
  return {
    name: 'nitro',
    simulated: false,
    async getEvidence(reportData) {
      checkReportData(reportData);
      try {
        await stat(device);
      } catch {
        throw unavailable('nitro', `${device} does not exist`, 'not inside an AWS Nitro Enclave');
      }
      if (options.driver === undefined) {
        throw unavailable(
          'nitro',
          `${device} exists but no NSM driver is configured`,
          'the NSM needs an ioctl; pass nitroProvider({driver}) with a native addon or helper process',
        );
      }
      const document = parseNsmResponse(await options.driver.request(nsmAttestationRequest(reportData)));
      return { evidence: document, platform: 'nitro' };
    },
  };
}
