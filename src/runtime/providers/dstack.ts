/**
 * The dstack guest agent (Phala's TDX CVM runtime): HTTP over a unix socket. `POST /GetQuote` with
 * `{"report_data": hex}` answers `{"quote": hex, "event_log": …}` (the agent of dstack ≥ 0.5 at
 * /var/run/dstack.sock). The legacy tappd agent (/var/run/tappd.sock) answers the same body at
 * `POST /prpc/Tappd.RawQuote?json`. Responses are size- and time-bounded and parsed strictly.
 */
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { fromHex, toHex } from '../../bytes.js';
import { checkReportData, errnoOf, failed, unavailable } from './check.js';
import type { EvidenceProvider } from './types.js';

export const DSTACK_SOCKETS = ['/var/run/dstack.sock', '/var/run/tappd.sock'] as const;
const MAX_RESPONSE = 4 << 20;
const TIMEOUT_MS = 30_000;

export interface DstackProviderOptions {
  /** The agent's socket. Default: the first of DSTACK_SOCKETS that exists. */
  readonly socketPath?: string;
  readonly timeoutMs?: number;
}

function endpointFor(socketPath: string): string {
  return socketPath.endsWith('tappd.sock') ? '/prpc/Tappd.RawQuote?json' : '/GetQuote';
}

export async function findDstackSocket(
  candidates: readonly string[] = DSTACK_SOCKETS,
): Promise<string | undefined> {
  for (const path of candidates) {
    try {
      if ((await stat(path)).isSocket()) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

function post(socketPath: string, path: string, body: string, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE) {
            req.destroy();
            reject(failed('dstack', `response larger than ${MAX_RESPONSE} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(
              failed(
                'dstack',
                `agent answered HTTP ${res.statusCode}`,
                Buffer.concat(chunks).toString('utf8').slice(0, 200),
              ),
            );
            return;
          }
          resolve(new Uint8Array(Buffer.concat(chunks)));
        });
        res.on('error', (error) => reject(failed('dstack', 'response failed', errnoOf(error))));
      },
    );
    req.on('timeout', () => {
      req.destroy();
      reject(failed('dstack', `no answer within ${timeoutMs} ms`));
    });
    req.on('error', (error) => {
      const code = errnoOf(error);
      reject(
        code === 'ENOENT' || code === 'ECONNREFUSED'
          ? unavailable('dstack', `no guest agent at ${socketPath}`, code)
          : failed('dstack', 'request failed', code),
      );
    });
    req.end(body);
  });
}

function parseQuoteResponse(bytes: Uint8Array): Uint8Array {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw failed('dstack', 'agent response is not JSON');
  }
  const quote = (json as { quote?: unknown } | null)?.quote;
  if (typeof quote !== 'string' || quote.length === 0)
    throw failed('dstack', 'agent response has no "quote" string');
  try {
    return fromHex(quote.replace(/^0x/, ''), 'quote');
  } catch {
    throw failed('dstack', '"quote" is not hex');
  }
}

export function dstackProvider(options: DstackProviderOptions = {}): EvidenceProvider {
  return {
    name: 'dstack',
    simulated: false,
    async getEvidence(reportData) {
      checkReportData(reportData);
      const socketPath = options.socketPath ?? (await findDstackSocket());
      if (socketPath === undefined) {
        throw unavailable(
          'dstack',
          'no dstack guest agent socket',
          `looked for ${DSTACK_SOCKETS.join(', ')}`,
        );
      }
      const body = JSON.stringify({ report_data: toHex(reportData) });
      const response = await post(socketPath, endpointFor(socketPath), body, options.timeoutMs ?? TIMEOUT_MS);
      return { evidence: parseQuoteResponse(response), platform: 'tdx' };
    },
  };
}
