/**
 * `veritee serve` and `veritee connect` as processes (the CLI contract: exit 0 accepted, 1 rejected,
 * 2 bad arguments), plus the app server's HTTP side (fresh evidence, signed responses) through the
 * library client.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { toHex, utf8Decode, utf8Encode } from '../../src/bytes.js';
import { callEnclave, fetchEnclaveEvidence } from '../../src/channel/client.js';
import { evpStatus } from '../../src/crypto/node-evp.js';
import { VeriteeError } from '../../src/errors.js';
import { connectEnclave } from '../../src/runtime/client.js';
import { sha384 } from '../../src/runtime/sim/nitro.js';
import { simulatorAnchor } from '../../src/runtime/sim/store.js';
import { SIM_POLICY } from '../helpers/channel.js';
import { CLI, type CliRun, runCli } from '../helpers/cli.js';

const ROOT = join(import.meta.dirname, '..', '..');
const ECHO = join(ROOT, 'examples', 'echo', 'app.mjs');
const simDir = mkdtempSync(join(tmpdir(), 'veritee-serve-sim-'));
const env = { ...process.env, VERITEE_SIM_DIR: simDir };

function run(args: string[]): Promise<CliRun> {
  return runCli(args, env);
}

/** Starts `veritee serve` with `args`; resolves with the process, its URL and its log so far. */
async function startServe(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ process: ChildProcess; url: string; log: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ECHO, '--port', '0', ...args], {
    env: { ...env, ...extraEnv },
  });
  let log = '';
  const address = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      log += chunk;
      const match = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${log}`)));
  });
  return { process: child, url: address, log: () => log };
}

let server: ChildProcess;
let url: string;
let serveLog = '';
let tdx: Awaited<ReturnType<typeof startServe>>;

beforeAll(async () => {
  const nitro = await startServe(['--provider', 'sim']);
  server = nitro.process;
  url = nitro.url;
  serveLog = nitro.log();
  tdx = await startServe(['--provider', 'sim', '--sim-format', 'tdx']);
});

afterAll(() => {
  server.kill('SIGTERM');
  tdx.process.kill('SIGTERM');
});

describe('veritee serve', () => {
  it('says loudly that it runs on the simulator, with the app measurement', () => {
    expect(serveLog).toMatch(/SIMULATOR/);
    expect(serveLog).toContain(toHex(sha384(readFileSync(ECHO))));
  });

  it('says when the channel crypto runs without the veritee-evp addon', async () => {
    // With the addon built (CI requires it), the default start says nothing about it; without, it says so.
    if (evpStatus().loaded) expect(serveLog).not.toMatch(/veritee-evp/);
    else expect(serveLog).toMatch(/channel crypto on node:crypto's API/);
    const plain = await startServe(['--provider', 'sim'], { VERITEE_EVP: 'off' });
    plain.process.kill('SIGTERM');
    expect(plain.log()).toMatch(
      /channel crypto on node:crypto's API \(VERITEE_EVP=off\): same results, slower/,
    );
  });

  it('exits 2 on bad arguments', async () => {
    expect((await run(['serve', ECHO, '--port', 'x'])).code).toBe(2);
    expect((await run(['serve', ECHO])).code).toBe(2);
    expect((await run(['serve', join(ROOT, 'nope.mjs'), '--port', '0'])).code).toBe(2);
    expect((await run(['serve', ECHO, '--port', '0', '--provider', 'quantum'])).code).toBe(2);
    // No configfs-tsm here: the start-up self-check reports it instead of the first handshake.
    const absent = await run(['serve', ECHO, '--port', '0', '--provider', 'tsm']);
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/PROVIDER_UNAVAILABLE/);
    // No /dev/nsm here: `--provider nitro` (the veritee-nsm addon) says this is no Nitro Enclave.
    const noNsm = await run(['serve', ECHO, '--port', '0', '--provider', 'nitro']);
    expect(noNsm.code).toBe(2);
    expect(noNsm.stderr).toMatch(/PROVIDER_UNAVAILABLE: nitro: \/dev\/nsm .*not inside an AWS Nitro Enclave/);
    const noHandler = join(simDir, 'bad.mjs');
    writeFileSync(noHandler, 'export const x = 1;\n');
    expect((await run(['serve', noHandler, '--port', '0', '--provider', 'sim'])).code).toBe(2);
  });
});

describe('veritee connect', () => {
  it('--trust-sim: verifies, sends, prints the verified reply, exits 0', async () => {
    const out = await run(['connect', url, '--trust-sim', '--send', 'hello enclave']);
    expect(out.code).toBe(0);
    expect(out.stdout).toBe('hello enclave\n');
    expect(out.stderr).toMatch(/SIMULATOR/);
  });

  it('--json reports the reply and the result, platform sim', async () => {
    const out = await run(['connect', url, '--trust-sim', '--send', 'x', '--json']);
    expect(out.code).toBe(0);
    const body = JSON.parse(out.stdout);
    expect(body.accepted).toBe(true);
    expect(body.reply).toBe('x');
    expect(body.result.platform).toBe('sim');
    expect(body.result.claims.simulatedPlatform).toBe('nitro');
  });

  it('accepts a policy that lists sim and pins the app measurement', async () => {
    const policy = join(simDir, 'policy.json');
    const pcr0 = toHex(sha384(readFileSync(ECHO)));
    writeFileSync(policy, JSON.stringify({ platforms: ['sim'], measurements: { pcr0 } }));
    expect((await run(['connect', url, '--policy', policy, '--send', 'p'])).code).toBe(0);
  });

  it('exits 1 for the simulator without --trust-sim, and for a wrong measurement', async () => {
    const untrusted = await run(['connect', url, '--send', 'hello']);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/REJECTED: CHANNEL_EVIDENCE_REJECTED/);
    expect(untrusted.stdout).toBe('');
    const policy = join(simDir, 'wrong.json');
    writeFileSync(policy, JSON.stringify({ platforms: ['sim'], measurements: { pcr0: 'ab'.repeat(48) } }));
    const wrong = await run(['connect', url, '--policy', policy, '--send', 'hello']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/pcr0/);
  });

  it('exits 1 when nothing answers, 2 on bad arguments', async () => {
    expect((await run(['connect', 'http://127.0.0.1:1', '--trust-sim', '--send', 'x'])).code).toBe(1);
    expect((await run(['connect', url, '--trust-sim'])).code).toBe(2);
    expect((await run(['connect', '--send', 'x'])).code).toBe(2);
    expect((await run(['connect', 'ftp://x', '--send', 'x'])).code).toBe(2);
    expect((await run(['connect', url, '--send', 'x', '--policy', join(simDir, 'missing.json')])).code).toBe(
      2,
    );
    expect(
      (await run(['connect', url, '--send', 'x', '--trust-sim', '--sim-dir', join(simDir, 'none')])).code,
    ).toBe(2);
    expect((await run(['connect', url, '--send', 'x', '--timeout', 'soon'])).code).toBe(2);
  });
});

describe('app server HTTP side and the library client', () => {
  it('serves fresh nonce-bound evidence and signs every response', async () => {
    const anchor = await simulatorAnchor(simDir);
    const options = { simulatorRoots: [anchor], policy: SIM_POLICY };
    const keys = await fetchEnclaveEvidence(url, options);
    expect(keys.result.platform).toBe('sim');
    const reply = await callEnclave(url, utf8Encode('signed please'), keys);
    expect(utf8Decode(reply)).toBe('signed please');
    // A response altered on the way (here: a different body under the same signature) is refused.
    const tampering: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const body = new Uint8Array(await response.arrayBuffer());
      body[0]! ^= 1;
      return new Response(body, { status: response.status, headers: response.headers });
    };
    await expect(callEnclave(url, utf8Encode('signed please'), keys, { fetch: tampering })).rejects.toThrow(
      /signature/,
    );
    // Evidence answered for a different nonce (a replay) is refused.
    const replaying: typeof fetch = async (input, init) =>
      fetch(String(input).replace(/nonce=[0-9a-f]+/, `nonce=${'00'.repeat(32)}`), init);
    const error = await fetchEnclaveEvidence(url, { ...options, fetch: replaying }).catch((e) => e);
    expect(error).toBeInstanceOf(VeriteeError);
    expect((error as VeriteeError).code).toBe('CHANNEL_BINDING_MISMATCH');
  });

  it('refuses evidence requests without a proper nonce', async () => {
    for (const query of ['', '?nonce=zz', '?nonce=00', `?nonce=${'00'.repeat(65)}`]) {
      expect((await fetch(`${url}/evidence${query}`)).status).toBe(400);
    }
    expect((await fetch(`${url}/nothing`)).status).toBe(404);
  });

  it('the Node client speaks WebSocket to the same server', async () => {
    const anchor = await simulatorAnchor(simDir);
    const channel = await connectEnclave(url, { simulatorRoots: [anchor], policy: SIM_POLICY });
    const big = new Uint8Array(200_000).fill(7);
    channel.send(big);
    expect(await channel.receive()).toEqual(big);
    channel.close();
  });
});

describe('the TDX simulator (--sim-format tdx) end to end', () => {
  const mrtd = toHex(sha384(readFileSync(ECHO)));

  it('says SIMULATOR and the app measurement (MRTD), and serves its collateral', async () => {
    expect(tdx.log()).toMatch(/SIMULATOR tdx; MRTD = SHA-384 of the app/);
    expect(tdx.log()).toContain(mrtd);
    const collateral = await fetch(`${tdx.url}/collateral`);
    expect(collateral.status).toBe(200);
    expect(Object.keys(await collateral.json())).toContain('tcb_info');
    expect((await fetch(`${url}/collateral`)).status).toBe(404); // the Nitro simulator needs none
    expect((await run(['serve', ECHO, '--port', '0', '--provider', 'sim', '--sim-format', 'sgx'])).code).toBe(
      2,
    );
  });

  it('connect --trust-sim verifies the TDX quote with the served collateral: platform sim, MRTD of the app', async () => {
    const out = await run(['connect', tdx.url, '--trust-sim', '--send', 'over tdx', '--json']);
    expect(out.code, out.stderr).toBe(0);
    const body = JSON.parse(out.stdout);
    expect(body.reply).toBe('over tdx');
    expect(body.result).toMatchObject({ platform: 'sim', verdict: 'affirming' });
    expect(body.result.claims).toMatchObject({ simulatedPlatform: 'tdx', teeType: 'tdx' });
    expect(body.result.measurements.mrtd).toBe(mrtd);
    const policy = join(simDir, 'tdx-policy.json');
    writeFileSync(policy, JSON.stringify({ platforms: ['sim'], measurements: { mrtd } }));
    expect((await run(['connect', tdx.url, '--policy', policy, '--send', 'p'])).code).toBe(0);
  });

  it('connect rejects it without --trust-sim, and with a wrong MRTD', async () => {
    const untrusted = await run(['connect', tdx.url, '--send', 'hello']);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/REJECTED: CHANNEL_EVIDENCE_REJECTED/);
    const policy = join(simDir, 'tdx-wrong.json');
    writeFileSync(policy, JSON.stringify({ platforms: ['sim'], measurements: { mrtd: 'ab'.repeat(48) } }));
    const wrong = await run(['connect', tdx.url, '--policy', policy, '--send', 'hello']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/mrtd/);
  });

  it('veritee verify --trust-sim accepts a saved quote with the collateral kept next to the roots', async () => {
    const response = await fetch(`${tdx.url}/evidence?nonce=${'11'.repeat(32)}`);
    const quotePath = join(simDir, 'tdx-quote.b64');
    writeFileSync(quotePath, (await response.json()).evidence);
    const collateral = join(simDir, 'tdx-collateral.json');
    const accepted = await run(['verify', quotePath, '--collateral', collateral, '--trust-sim', '--json']);
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(JSON.parse(accepted.stdout)).toMatchObject({
      platform: 'sim',
      claims: { simulatedPlatform: 'tdx' },
    });
    const refused = await run(['verify', quotePath, '--collateral', collateral, '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).errors[0].code).toBe('CHAIN_UNTRUSTED_ROOT');
  });
});

describe('WebSocket framing abuse', () => {
  function closeCode(send: (ws: WebSocket) => void, path = '/channel'): Promise<number> {
    return new Promise((resolve) => {
      const ws = new WebSocket(url.replace('http:', 'ws:') + path);
      ws.on('open', () => send(ws));
      ws.on('close', (code) => resolve(code));
      ws.on('error', () => {});
    });
  }

  it('closes on a text frame, an oversized frame, an empty frame and a wrong path', async () => {
    expect(await closeCode((ws) => ws.send('not binary'))).toBe(1003);
    expect(await closeCode((ws) => ws.send(new Uint8Array(70_000)))).toBe(1009);
    expect(await closeCode((ws) => ws.send(new Uint8Array(0)))).toBe(1009);
    expect(await closeCode(() => {}, '/elsewhere')).toBe(1006);
  });
});
