/**
 * The explorer in a real headless Chromium (Debian's package, driven by playwright-core): every real
 * vector pasted in and verified in the browser, the bad-input message, the live policy editor, the
 * service mode and permalinks. Screenshots go to test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVerifierServer } from '../src/server/node.js';
import { verify } from '../src/verify.js';
import { vectorIds as dcapVectorIds, loadVector as loadDcapVector } from './dcap/helpers.js';
import { nitroVectors } from './helpers/vectors.js';
import { loadVector as loadSnpVector, VECTOR_IDS as SNP_VECTOR_IDS } from './snp/helpers.js';

function pem(der: Uint8Array): string {
  const body = Buffer.from(der)
    .toString('base64')
    .replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

/** Every Intel and AMD vector: evidence, the collateral text a user would paste, and the time. */
function endorsedVectors() {
  const intel = dcapVectorIds().map((id) => {
    const vector = loadDcapVector(id);
    return {
      id,
      evidence: vector.quote,
      collateralText: JSON.stringify(vector.collateralJson),
      collateral: vector.collateralJson as unknown,
      at: vector.at,
    };
  });
  const amd = SNP_VECTOR_IDS.map((id) => {
    const vector = loadSnpVector(id);
    const vcek = vector.vcekIsPem ? Buffer.from(vector.vcek).toString('utf8') : pem(vector.vcek);
    const text = `${vcek.trim()}\n${vector.chain.trim()}\n`;
    return {
      id: `sev-snp/${id}`,
      evidence: vector.report,
      collateralText: text,
      collateral: { vcek: text } as unknown,
      at: vector.at,
    };
  });
  return [...intel, ...amd];
}

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const required = process.env.VERITEE_REQUIRE_BROWSER === '1';
const available = existsSync(CHROMIUM);
if (!available && required)
  throw new Error(`Chromium not found at ${CHROMIUM} but VERITEE_REQUIRE_BROWSER=1`);
if (!available)
  console.warn(
    `explorer browser tests skipped: no Chromium at ${CHROMIUM} (set VERITEE_REQUIRE_BROWSER=1 to fail instead)`,
  );

const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts');

describe.skipIf(!available)('attestation explorer in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let base: string;
  let close: () => Promise<void>;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const server = await startVerifierServer({
      port: 0,
      quiet: true,
      keyPath: join(mkdtempSync(join(tmpdir(), 'veritee-')), 'key.jwk'),
    });
    close = server.close;
    base = `http://127.0.0.1:${server.port}/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  async function verifyPasted(text: string, at: string): Promise<void> {
    await page.goto(base);
    await page.fill('#at', at);
    await page.fill('#evidence', text);
    await page.click('#verify');
  }

  for (const vector of nitroVectors()) {
    it(`verifies ${vector.id} in the browser`, async () => {
      const genuine = vector.expected.independent_checks.root_is_aws_nitro_g1;
      const at = new Date(vector.expected.verification_time.unix_ms).toISOString();
      await verifyPasted(Buffer.from(vector.bytes).toString('base64'), at);
      const verdict = page.locator('#verdict');
      await verdict.waitFor();
      const debug = ['0', '1', '2'].every((i) => /^0+$/.test(vector.expected.parsed.pcrs[i]!));
      expect(await verdict.textContent()).toBe(genuine && !debug ? 'affirming' : 'contraindicated');
      expect(await page.locator('#platform').textContent()).toBe('AWS Nitro Enclave');
      if (genuine) {
        if (!debug)
          expect(await page.locator('#measurements').textContent()).toContain(
            vector.expected.parsed.pcrs['0'],
          );
        expect(await page.locator('#timeline .tl-row').count()).toBe(
          vector.expected.certificate_chain.length,
        );
      } else {
        expect(await page.locator('#reasons').textContent()).toContain('CHAIN_UNTRUSTED_ROOT');
      }
      await page.screenshot({ path: join(ARTIFACTS, `explorer-${vector.id}.png`), fullPage: true });
    });
  }

  for (const vector of endorsedVectors()) {
    it(`verifies ${vector.id} with its collateral in the browser, as the library does in Node`, async () => {
      const expected = await verify(vector.evidence, { at: vector.at, collateral: vector.collateral });
      await page.goto(base);
      await page.fill('#at', vector.at.toISOString());
      await page.click('#collateral-box summary');
      await page.fill('#collateral', vector.collateralText);
      await page.fill('#evidence', Buffer.from(vector.evidence).toString('base64'));
      await page.click('#verify');
      await page.locator('#verdict').waitFor();
      await expect
        .poll(() => page.locator('#verdict').textContent(), { timeout: 20_000 })
        .toBe(expected.verdict);
      const shown = await page.locator('#output').textContent();
      if (expected.tcb) expect(shown).toContain(expected.tcb.status);
      for (const error of expected.errors) expect(shown).toContain(error.code);
      const first = Object.entries(expected.measurements).find(([, value]) => !/^0+$/.test(value));
      if (first) expect(await page.locator('#measurements').textContent()).toContain(first[1]);
      await page.screenshot({
        path: join(ARTIFACTS, `explorer-${vector.id.replace(/\//g, '-')}.png`),
        fullPage: true,
      });
    });
  }

  it('shows a clear message for bad input', async () => {
    await verifyPasted('this is not evidence!', '');
    const error = page.locator('#input-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('neither binary, hex nor base64');
    await verifyPasted('00ff00ff', '');
    await page.locator('#reasons').waitFor();
    expect(await page.locator('#reasons').textContent()).toContain('FORMAT_UNKNOWN');
    await page.screenshot({ path: join(ARTIFACTS, 'explorer-bad-input.png') });
  });

  it('updates the verdict live from the policy editor, and from the service', async () => {
    const vector = nitroVectors().find((v) => v.id === 'marlin-aws-2024-12-13')!;
    await page.goto(base);
    await page.click('#sample');
    await expect.poll(() => page.locator('#verdict').textContent(), { timeout: 20_000 }).toBe('affirming');
    await page.click('#policy-box summary');
    await page.fill('#policy', JSON.stringify({ measurements: { pcr0: '00'.repeat(48) } }));
    await expect
      .poll(() => page.locator('#verdict').textContent(), { timeout: 20_000 })
      .toBe('contraindicated');
    expect(await page.locator('#checks').textContent()).toContain('policy.measurement.pcr0');
    await page.fill('#policy', JSON.stringify({ measurements: { pcr0: vector.expected.parsed.pcrs['0'] } }));
    await expect.poll(() => page.locator('#verdict').textContent(), { timeout: 20_000 }).toBe('affirming');
    await page.fill('#policy', '{"measurment": {}}');
    await expect.poll(() => page.locator('#policy-error').textContent()).toContain('unknown policy key');
    await page.fill('#policy', '');
    await page.check('#use-service');
    await expect.poll(() => page.locator('#verdict').textContent(), { timeout: 20_000 }).toBe('affirming');
    expect(await page.locator('#checks').textContent()).toContain('nitro.signature');
  });

  it('restores evidence, time and policy from a permalink', async () => {
    await page.goto(base);
    await page.click('#sample');
    await expect.poll(() => page.locator('#verdict').textContent(), { timeout: 20_000 }).toBe('affirming');
    const href = await page.locator('#permalink').getAttribute('href');
    expect(href).toMatch(/^#e=/);
    const fresh = await browser.newPage();
    await fresh.goto(`${base}${href}`);
    await expect.poll(() => fresh.locator('#verdict').textContent(), { timeout: 20_000 }).toBe('affirming');
    await fresh.close();
  });

  it('works on a phone-sized screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    await phone.goto(base);
    await phone.click('#sample');
    await expect.poll(() => phone.locator('#verdict').textContent(), { timeout: 20_000 }).toBe('affirming');
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(ARTIFACTS, 'explorer-phone.png'), fullPage: true });
    await phone.close();
  });
});
