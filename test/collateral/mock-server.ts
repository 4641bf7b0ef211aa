/**
 * A local mock of Intel PCS (v4) and AMD KDS on 127.0.0.1, serving the real collateral of the test vectors,
 * with fault injection. Never listens on anything but loopback.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PCS_FILES } from '../../src/platforms/dcap/collateral.js';

export const DCAP_DIR = fileURLToPath(new URL('../vectors/dcap/', import.meta.url));
export const SNP_DIR = fileURLToPath(new URL('../vectors/sev-snp/', import.meta.url));

export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string }
  | { readonly kind: 'slow'; readonly ms: number }
  | { readonly kind: 'truncate' }
  | { readonly kind: 'body'; readonly body: Uint8Array; readonly headers?: Record<string, string> };

interface Route {
  readonly body: Uint8Array;
  readonly headers: Record<string, string>;
}

export interface MockServer {
  readonly url: string;
  /** Requests seen, as path?query. */
  readonly requests: string[];
  /** Most requests in flight at once. */
  readonly maxInflight: () => number;
  /** Next `times` requests whose path?query matches `pattern` get `fault`. */
  inject(pattern: RegExp, fault: Fault, times?: number): void;
  /** Serves (or replaces) a route. */
  route(pathAndQuery: string, body: Uint8Array, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

const read = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

/** The PCS routes of one DCAP vector folder (FMSPC and TEE type given). */
export function pcsRoutes(
  vector: string,
  tee: 'sgx' | 'tdx',
  fmspc: string,
  ca: 'platform' | 'processor',
  update = 'standard',
): [string, Uint8Array, Record<string, string>][] {
  const dir = join(DCAP_DIR, vector);
  const files = Object.fromEntries(
    Object.values(PCS_FILES).map((name) => [name, read(join(dir, name))] as const),
  );
  return pcsRoutesOf(files, tee, fmspc, ca, update);
}

/** The PCS routes serving Intel PCS wire-format files (`PCS_FILES` names → contents). */
export function pcsRoutesOf(
  files: Readonly<Record<string, Uint8Array>>,
  tee: 'sgx' | 'tdx',
  fmspc: string,
  ca: 'platform' | 'processor',
  update = 'standard',
): [string, Uint8Array, Record<string, string>][] {
  const file = (name: string): Uint8Array => files[name]!;
  const chainHeader = (name: string): string => encodeURIComponent(new TextDecoder().decode(file(name)));
  return [
    [
      `/${tee}/certification/v4/tcb?fmspc=${fmspc.toUpperCase()}&update=${update}`,
      file(PCS_FILES.tcbInfo),
      { 'TCB-Info-Issuer-Chain': chainHeader(PCS_FILES.tcbInfoIssuerChain) },
    ],
    [
      `/${tee}/certification/v4/qe/identity?update=${update}`,
      file(PCS_FILES.qeIdentity),
      { 'SGX-Enclave-Identity-Issuer-Chain': chainHeader(PCS_FILES.qeIdentityIssuerChain) },
    ],
    [
      `/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`,
      file(PCS_FILES.pckCrl),
      { 'SGX-PCK-CRL-Issuer-Chain': chainHeader(PCS_FILES.pckCrlIssuerChain) },
    ],
    [
      // PCCS serves the Root CA CRL as hex text.
      '/sgx/certification/v4/rootcacrl',
      new TextEncoder().encode(Buffer.from(file(PCS_FILES.rootCaCrl)).toString('hex')),
      {},
    ],
  ];
}

/** The KDS routes of one SNP vector (VCEK DER at its exact query, and the product chain). */
export function kdsRoutes(
  vector: string,
  product: string,
  vcekPath: string,
  vcekFile = 'vcek.der',
): [string, Uint8Array, Record<string, string>][] {
  const dir = join(SNP_DIR, vector);
  // KDS serves the VCEK as DER.
  const raw = readFileSync(join(dir, vcekFile), 'latin1');
  const vcek = raw.includes('-----BEGIN')
    ? new Uint8Array(Buffer.from(raw.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'))
    : read(join(dir, vcekFile));
  return [
    [vcekPath, vcek, {}],
    [`/vcek/v1/${product}/cert_chain`, read(join(dir, 'ask_ark.pem')), {}],
  ];
}

export async function startMock(): Promise<MockServer> {
  const routes = new Map<string, Route>();
  const faults: { pattern: RegExp; fault: Fault; times: number }[] = [];
  const requests: string[] = [];
  let inflight = 0;
  let peak = 0;
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const target = request.url ?? '/';
    requests.push(target);
    inflight++;
    peak = Math.max(peak, inflight);
    response.on('close', () => inflight--);
    const index = faults.findIndex((entry) => entry.times > 0 && entry.pattern.test(target));
    const fault = index >= 0 ? faults[index]!.fault : undefined;
    if (index >= 0) faults[index]!.times--;
    const route = routes.get(target);
    const send = (body: Uint8Array, headers: Record<string, string>): void => {
      response.writeHead(200, { 'content-length': String(body.length), ...headers });
      response.end(body);
    };
    if (fault?.kind === 'status') {
      response.writeHead(
        fault.status,
        fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
      );
      response.end('fault');
      return;
    }
    if (fault?.kind === 'body') {
      send(fault.body, fault.headers ?? route?.headers ?? {});
      return;
    }
    if (route === undefined) {
      response.writeHead(404);
      response.end('not found');
      return;
    }
    if (fault?.kind === 'slow') {
      const timer = setTimeout(() => send(route.body, route.headers), fault.ms);
      response.on('close', () => clearTimeout(timer));
      return;
    }
    if (fault?.kind === 'truncate') {
      response.writeHead(200, { 'content-length': String(route.body.length), ...route.headers });
      response.write(route.body.subarray(0, Math.floor(route.body.length / 2)));
      setTimeout(() => response.socket?.destroy(), 5);
      return;
    }
    send(route.body, route.headers);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    maxInflight: () => peak,
    inject(pattern, fault, times = 1) {
      faults.push({ pattern, fault, times });
    },
    route(pathAndQuery, body, headers = {}) {
      routes.set(pathAndQuery, { body, headers });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
