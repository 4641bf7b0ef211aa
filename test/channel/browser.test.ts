/**
 * The channel client in a real headless Chromium (the same Debian package the explorer test uses): the
 * browser bundle (@noble + WebCrypto backend, no node:) opens the WebSocket channel to an enclave app
 * server running the simulator, verifies the evidence and the binding, and exchanges messages; without
 * the simulator root it is rejected.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnclaveServer, type EnclaveServer } from '../../src/runtime/server.js';
import { simSetup } from '../helpers/channel.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env.VERITEE_REQUIRE_BROWSER === '1')
  throw new Error(`Chromium not found at ${CHROMIUM} but VERITEE_REQUIRE_BROWSER=1`);
const ROOT = join(import.meta.dirname, '..', '..');

const ENTRY = `
import { connectEnclave } from './src/channel/client.ts';
import { parsePemCertificates } from './src/pki/certificate.ts';
import { makeTrustAnchor } from './src/pki/chain.ts';
import { loadPolicy } from './src/verify.ts';
globalThis.runChannel = async (url, pem, texts) => {
  const anchor = { ...(await makeTrustAnchor('sim', parsePemCertificates(pem)[0])), kind: 'simulator' };
  const channel = await connectEnclave(url, { simulatorRoots: [anchor], policy: loadPolicy({ platforms: ['sim'] }) });
  const replies = [];
  for (const text of texts) {
    channel.send(text);
    replies.push(new TextDecoder().decode(await channel.receive()));
  }
  channel.close();
  return { replies, platform: channel.peerEvidence.platform, simulated: channel.peerEvidence.claims.simulatedPlatform };
};
globalThis.runUntrusted = async (url) => {
  try {
    await connectEnclave(url, {});
    return 'connected';
  } catch (error) {
    return error.code;
  }
};
`;

describe.skipIf(!available)('attested channel client in Chromium', () => {
  let browser: Browser;
  let server: EnclaveServer;
  let url: string;
  let pem: string;
  let bundle: string;

  beforeAll(async () => {
    const sim = await simSetup();
    pem = readFileSync(join(sim.dir, 'nitro-root.pem'), 'utf8');
    server = createEnclaveServer((request) => `echo: ${new TextDecoder().decode(request)}`, {
      provider: sim.provider as never,
    });
    url = `http://127.0.0.1:${await server.listen(0)}`;
    const output = await build({
      stdin: { contents: ENTRY, resolveDir: ROOT, loader: 'ts' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      write: false,
      alias: { '#crypto': join(ROOT, 'src', 'crypto', 'web.ts') },
      logLevel: 'silent',
    });
    bundle = output.outputFiles[0]!.text;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the bundle has no node: imports', () => {
    expect(bundle).not.toMatch(/from\s*["']node:/);
  });

  it('verifies the simulator evidence and talks over the channel', async () => {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><title>channel</title>');
    await page.addScriptTag({ content: bundle, type: 'module' });
    await page.waitForFunction(() => 'runChannel' in globalThis);
    const result = await page.evaluate(
      ([u, p]) =>
        (globalThis as unknown as { runChannel: (...a: unknown[]) => Promise<unknown> }).runChannel(u, p, [
          'hello from the browser',
          'x'.repeat(100_000),
        ]),
      [url, pem],
    );
    expect(result).toEqual({
      replies: ['echo: hello from the browser', `echo: ${'x'.repeat(100_000)}`],
      platform: 'sim',
      simulated: 'nitro',
    });
    const refused = await page.evaluate(
      (u) => (globalThis as unknown as { runUntrusted: (u: string) => Promise<string> }).runUntrusted(u),
      url,
    );
    expect(refused).toBe('CHANNEL_EVIDENCE_REJECTED');
    await page.close();
  });
});
