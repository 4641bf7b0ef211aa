/**
 * Collateral providers: Intel PCS API v4 (or any PCCS-compatible server: the base URL is configuration)
 * and AMD KDS. Each call is one GET through the shared `HttpClient` and returns a `RawItem` — not yet
 * verified: `verifyItem` decides whether it may be stored.
 *
 * Intel PCS v4 (https://api.portal.trustedservices.intel.com/content/documentation.html):
 *   GET {pcs}/{sgx|tdx}/certification/v4/tcb?fmspc=…&update=…        header TCB-Info-Issuer-Chain
 *   GET {pcs}/{sgx|tdx}/certification/v4/qe/identity?update=…         header SGX-Enclave-Identity-Issuer-Chain
 *   GET {pcs}/sgx/certification/v4/pckcrl?ca=platform|processor&encoding=der   header SGX-PCK-CRL-Issuer-Chain
 *   Root CA CRL: `rootCaCrlUrl` (default for Intel's own PCS: the CRL distribution point of the Intel SGX
 *   Root CA; for any other base URL: the PCCS endpoint {pcs}/sgx/certification/v4/rootcacrl, hex or DER).
 * AMD KDS (AMD doc 57230):
 *   GET {kds}/vcek/v1/{product}/{hwID}?blSPL=…&teeSPL=…&snpSPL=…&ucodeSPL=…[&fmcSPL=…]   VCEK (DER)
 *   GET {kds}/{vcek|vlek}/v1/{product}/cert_chain                                     ASK|ASVK + ARK (PEM)
 *   GET {kds}/{vcek|vlek}/v1/{product}/crl                                            CRL (DER)
 */
import { toHex } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import type { Product } from '../platforms/snp/tcb.js';
import type { HttpClient } from './http.js';
import { issuerChainPem, type RawItem } from './items.js';

export const INTEL_PCS_URL = 'https://api.trustedservices.intel.com';
export const INTEL_ROOT_CA_CRL_URL = 'https://certificates.trustedservices.intel.com/IntelSGXRootCA.der';
export const AMD_KDS_URL = 'https://kdsintf.amd.com';

export type TcbUpdate = 'standard' | 'early';
export type Tee = 'sgx' | 'tdx';

function base(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'collateral service URL is not a URL', {
      details: url.slice(0, 200),
    });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'collateral service URL must be http(s)', {
      details: url.slice(0, 200),
    });
  }
  return url.replace(/\/+$/, '');
}

export interface PcsProviderOptions {
  /** PCS or PCCS base URL. Default Intel's PCS. */
  readonly url?: string | undefined;
  /** Where to get the Intel SGX Root CA CRL. */
  readonly rootCaCrlUrl?: string | undefined;
  /** Intel's TCB evaluation data: `standard` (default) or `early` (a coming TCB recovery). */
  readonly update?: TcbUpdate | undefined;
}

export class PcsProvider {
  readonly url: string;
  readonly rootCaCrlUrl: string;
  readonly update: TcbUpdate;

  constructor(
    private readonly http: HttpClient,
    options: PcsProviderOptions = {},
  ) {
    this.url = base(options.url ?? INTEL_PCS_URL);
    this.rootCaCrlUrl =
      options.rootCaCrlUrl ??
      (this.url === INTEL_PCS_URL ? INTEL_ROOT_CA_CRL_URL : `${this.url}/sgx/certification/v4/rootcacrl`);
    this.update = options.update ?? 'standard';
  }

  private async get(
    kind: RawItem['kind'],
    key: string,
    url: string,
    header: string | undefined,
  ): Promise<RawItem> {
    const response = await this.http.get(url);
    const issuerChain =
      header === undefined ? undefined : issuerChainPem(response.headers.get(header), `${kind}/${key}`);
    return { kind, key, body: response.body, issuerChain, source: url, fetchedAt: new Date() };
  }

  tcbInfo(tee: Tee, fmspc: Uint8Array, update: TcbUpdate = this.update): Promise<RawItem> {
    const hex = toHex(fmspc);
    return this.get(
      'intel.tcbInfo',
      `${tee}/${hex}/${update}`,
      `${this.url}/${tee}/certification/v4/tcb?fmspc=${hex.toUpperCase()}&update=${update}`,
      'TCB-Info-Issuer-Chain',
    );
  }

  qeIdentity(tee: Tee, update: TcbUpdate = this.update): Promise<RawItem> {
    return this.get(
      'intel.qeIdentity',
      `${tee}/${update}`,
      `${this.url}/${tee}/certification/v4/qe/identity?update=${update}`,
      'SGX-Enclave-Identity-Issuer-Chain',
    );
  }

  pckCrl(ca: 'platform' | 'processor'): Promise<RawItem> {
    return this.get(
      'intel.pckCrl',
      ca,
      `${this.url}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`,
      'SGX-PCK-CRL-Issuer-Chain',
    );
  }

  rootCaCrl(): Promise<RawItem> {
    return this.get('intel.rootCaCrl', 'root', this.rootCaCrlUrl, undefined);
  }
}

export interface KdsProviderOptions {
  /** AMD KDS base URL. Default AMD's. */
  readonly url?: string | undefined;
}

export interface VcekRequest {
  readonly product: Product;
  /** CHIP_ID (64 bytes; Turin: its first 8 bytes are used). */
  readonly chipId: Uint8Array;
  readonly tcb: {
    readonly bootloader: number;
    readonly tee: number;
    readonly snp: number;
    readonly microcode: number;
    readonly fmc?: number | undefined;
  };
  /** The `amd.vcek` key. */
  readonly key: string;
}

export class KdsProvider {
  readonly url: string;

  constructor(
    private readonly http: HttpClient,
    options: KdsProviderOptions = {},
  ) {
    this.url = base(options.url ?? AMD_KDS_URL);
  }

  private async get(kind: RawItem['kind'], key: string, url: string): Promise<RawItem> {
    const response = await this.http.get(url);
    return { kind, key, body: response.body, source: url, fetchedAt: new Date() };
  }

  vcek(request: VcekRequest): Promise<RawItem> {
    const { product, chipId, tcb } = request;
    const hwId = toHex(product === 'Turin' ? chipId.subarray(0, 8) : chipId);
    const query = new URLSearchParams();
    if (product === 'Turin') query.set('fmcSPL', String(tcb.fmc ?? 0));
    query.set('blSPL', String(tcb.bootloader));
    query.set('teeSPL', String(tcb.tee));
    query.set('snpSPL', String(tcb.snp));
    query.set('ucodeSPL', String(tcb.microcode));
    return this.get('amd.vcek', request.key, `${this.url}/vcek/v1/${product}/${hwId}?${query.toString()}`);
  }

  chain(product: Product, kind: 'vcek' | 'vlek' = 'vcek'): Promise<RawItem> {
    return this.get('amd.chain', `${product}/${kind}`, `${this.url}/${kind}/v1/${product}/cert_chain`);
  }

  crl(product: Product, kind: 'vcek' | 'vlek' = 'vcek'): Promise<RawItem> {
    return this.get('amd.crl', `${product}/${kind}`, `${this.url}/${kind}/v1/${product}/crl`);
  }
}
