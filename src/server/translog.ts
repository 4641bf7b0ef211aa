/**
 * HTTP endpoint of the release transparency log, as a Web `Request → Response` handler (mountable in
 * Hono or `node:http` through an adapter; tests call it directly). Routes, relative to `prefix`:
 *
 * | method | path | answer |
 * |---|---|---|
 * | GET  | `checkpoint` | the signed tree head (JSON, see checkpoint.ts) |
 * | GET  | `entries/<index>` | `{index, entry}`: the stored DSSE envelope |
 * | POST | `entries` | body: a DSSE envelope holding a valid release statement → `201 {index, leafHash}` (`200` if already logged) |
 * | GET  | `proof/inclusion?index=<i>&size=<n>` or `?hash=<leaf hash hex>&size=<n>` | `{index, treeSize, hashes}` |
 * | GET  | `proof/consistency?from=<m>&to=<n>` | `{from, to, hashes}` |
 *
 * Errors are JSON `{code, message}`: 400 for bad input, 404 for a missing entry or route, 413 for a body
 * over the limit. The log accepts any well-formed release record: who signed it is for each relying
 * party's policy to judge (optionally, `acceptSigners` restricts submissions to known keys).
 */
import { fromHex, toHex, utf8Decode } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';
import { parseEnvelope, parseReleaseStatement, type TrustedKey, verifyRelease } from '../measure/release.js';
import { logEntryOf } from '../measure/releases.js';
import { treeHeadToJson } from '../measure/translog/checkpoint.js';
import type { TransparencyLog } from '../measure/translog/log.js';
import { readBodyLimited } from '../stream.js';

export interface LogHandlerOptions {
  /** Path prefix the routes live under. Default `/`. */
  readonly prefix?: string;
  /** Largest request body. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** When set, only records signed by one of these keys are logged. */
  readonly acceptSigners?: readonly TrustedKey[];
}

function json(status: number, body: unknown): Response {
  return new Response(`${JSON.stringify(body)}\n`, {
    status,
    headers: { 'content-type': 'application/json' },
  });
}

function errorResponse(error: unknown): Response {
  if (error instanceof VeriteeError) {
    const status =
      error.code === ErrorCode.LOG_ENTRY_MISSING
        ? 404
        : error.code === ErrorCode.PARSE_LIMIT_EXCEEDED
          ? 413
          : 400;
    return json(status, { code: error.code, message: error.message });
  }
  return json(500, { code: 'INTERNAL', message: 'internal error' });
}

function integer(params: URLSearchParams, name: string): number {
  const text = params.get(name);
  if (text === null || !/^\d{1,15}$/.test(text)) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `query parameter ${name} must be a non-negative integer`,
      { path: name },
    );
  }
  return Number(text);
}

function readBody(request: Request, limit: number): Promise<Uint8Array> {
  return readBodyLimited(
    request,
    limit,
    () => new VeriteeError(ErrorCode.PARSE_LIMIT_EXCEEDED, `body larger than ${limit} bytes`),
  );
}

export function createLogHandler(
  log: TransparencyLog,
  options: LogHandlerOptions = {},
): (request: Request) => Promise<Response> {
  const prefix = options.prefix ?? '/';
  const limit = options.maxBodyBytes ?? 1 << 20;

  async function submit(request: Request): Promise<Response> {
    const envelope = parseEnvelope(await readBody(request, limit));
    if (options.acceptSigners !== undefined) await verifyRelease(envelope, options.acceptSigners);
    else parseReleaseStatement(envelope.payload);
    const result = log.append(logEntryOf(envelope));
    return json(result.existing ? 200 : 201, { index: result.index, leafHash: toHex(result.leafHash) });
  }

  function inclusion(params: URLSearchParams): Response {
    const size = integer(params, 'size');
    let index: number;
    if (params.has('hash')) {
      const found = log.indexOf(fromHex(params.get('hash') ?? '', 'hash'));
      if (found === undefined || found >= size)
        throw new VeriteeError(
          ErrorCode.LOG_ENTRY_MISSING,
          `no entry with that leaf hash in the tree of size ${size}`,
        );
      index = found;
    } else {
      index = integer(params, 'index');
    }
    return json(200, { index, treeSize: size, hashes: log.inclusionProof(index, size).map(toHex) });
  }

  return async function handle(request: Request): Promise<Response> {
    try {
      const url = new URL(request.url);
      if (!url.pathname.startsWith(prefix)) return json(404, { code: 'NOT_FOUND', message: 'no such route' });
      const route = url.pathname.slice(prefix.length).replace(/^\/+/, '');
      const params = url.searchParams;
      if (request.method === 'POST' && route === 'entries') return await submit(request);
      if (request.method !== 'GET')
        return json(405, { code: 'METHOD_NOT_ALLOWED', message: `${request.method} not allowed` });
      if (route === 'checkpoint') return json(200, treeHeadToJson(await log.treeHead()));
      if (route === 'proof/inclusion') return inclusion(params);
      if (route === 'proof/consistency') {
        const from = integer(params, 'from');
        const to = integer(params, 'to');
        return json(200, { from, to, hashes: log.consistencyProof(from, to).map(toHex) });
      }
      const entry = /^entries\/(\d{1,15})$/.exec(route);
      if (entry !== null) {
        const index = Number(entry[1]);
        return json(200, { index, entry: JSON.parse(utf8Decode(log.entry(index), 'entry')) });
      }
      return json(404, { code: 'NOT_FOUND', message: 'no such route' });
    } catch (error) {
      return errorResponse(error);
    }
  };
}
