/**
 * The collateral CLI contract: with a PCS URL and a store, `veritee verify quote.bin` needs no
 * --collateral; a second run with --offline gives the same verdict from the store alone; fetch, export
 * and import (verified) move collateral to an air-gapped store. Runs the built CLI against the loopback mock.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli } from '../helpers/cli.js';
import { DCAP_CASES, SNP_CASES } from './cases.js';
import { DCAP_DIR, kdsRoutes, type MockServer, pcsRoutes, startMock } from './mock-server.js';

const tmp = mkdtempSync(join(tmpdir(), 'veritee-collateral-cli-'));
let mock: MockServer;

/** Runs the CLI asynchronously (the mock server lives in this process), without the caller's collateral settings. */
function run(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCli(args, {
    ...process.env,
    VERITEE_PCS_URL: '',
    VERITEE_KDS_URL: '',
    VERITEE_STORE: '',
    ...env,
  });
}

beforeAll(async () => {
  mock = await startMock();
  for (const c of DCAP_CASES)
    for (const [path, body, headers] of pcsRoutes(c.vector, c.tee, c.fmspc, c.ca))
      mock.route(path, body, headers);
  for (const c of SNP_CASES)
    for (const [path, body, headers] of kdsRoutes(c.vector, c.product, c.vcekPath, c.vcekFile))
      mock.route(path, body, headers);
});
afterAll(async () => mock.close());

const tdx = DCAP_CASES[0]!;
const quoteFile = join(DCAP_DIR, tdx.vector, 'quote.bin');
const at = tdx.at.toISOString();

describe('veritee verify with a collateral service and store', () => {
  it('fetches and stores on the first run; --offline gives the same verdict from the store', async () => {
    const store = join(tmp, 'verify.sqlite');
    const first = await run([
      'verify',
      quoteFile,
      '--at',
      at,
      '--pcs-url',
      mock.url,
      '--store',
      store,
      '--json',
    ]);
    expect(first.stderr).toBe('');
    const online = JSON.parse(first.stdout);
    expect(online.tcb.status).toBe('UpToDate');
    const requests = mock.requests.length;
    const second = await run(['verify', quoteFile, '--at', at, '--store', store, '--offline', '--json']);
    const offline = JSON.parse(second.stdout);
    expect(mock.requests.length).toBe(requests);
    expect(second.code).toBe(first.code);
    expect(offline.verdict).toBe(online.verdict);
    expect(offline.tcb).toEqual(online.tcb);
    expect(offline.validUntil).toBe(online.validUntil);
  });

  it('the environment variables configure the same', async () => {
    const store = join(tmp, 'env.sqlite');
    const out = await run(['verify', quoteFile, '--at', at, '--json'], {
      VERITEE_PCS_URL: mock.url,
      VERITEE_STORE: store,
    });
    expect(JSON.parse(out.stdout).tcb.status).toBe('UpToDate');
    const list = await run(['collateral', 'list', '--store', store, '--json']);
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).kind)
        .sort(),
    ).toEqual(['intel.pckCrl', 'intel.qeIdentity', 'intel.rootCaCrl', 'intel.tcbInfo']);
  });

  it('--offline with an empty store: rejected with COLLATERAL_UNAVAILABLE, no network', async () => {
    const requests = mock.requests.length;
    const out = await run([
      'verify',
      quoteFile,
      '--at',
      at,
      '--store',
      join(tmp, 'empty.sqlite'),
      '--offline',
      '--json',
    ]);
    expect(out.code).toBe(1);
    expect(JSON.parse(out.stdout).errors[0].code).toBe('COLLATERAL_UNAVAILABLE');
    expect(mock.requests.length).toBe(requests);
  });
});

describe('veritee collateral fetch / export / import', () => {
  it('fills a store for Intel and AMD evidence, exports a bundle, and an air-gapped store verifies from it', async () => {
    const online = join(tmp, 'online.sqlite');
    const snp = SNP_CASES[0]!;
    const snpFile = join(tmp, 'report.bin');
    writeFileSync(snpFile, snp.report());
    const sgxFile = join(DCAP_DIR, DCAP_CASES[1]!.vector, 'quote.bin');
    const fetchTdx = await run([
      'collateral',
      'fetch',
      quoteFile,
      '--at',
      at,
      '--pcs-url',
      mock.url,
      '--store',
      online,
      '--json',
    ]);
    expect(JSON.parse(fetchTdx.stdout)).toMatchObject({ ok: true, platform: 'dcap', stored: 4 });
    const fetchSgx = await run([
      'collateral',
      'fetch',
      sgxFile,
      '--at',
      DCAP_CASES[1]!.at.toISOString(),
      '--pcs-url',
      mock.url,
      '--store',
      online,
    ]);
    expect(fetchSgx.code).toBe(0);
    expect(fetchSgx.stdout).toMatch(/ok \(dcap; 3 fetched, 1 from the store\)/);
    const fetchSnp = await run([
      'collateral',
      'fetch',
      snpFile,
      '--at',
      snp.at.toISOString(),
      '--kds-url',
      mock.url,
      '--store',
      online,
      '--json',
    ]);
    expect(JSON.parse(fetchSnp.stdout)).toMatchObject({ ok: true, platform: 'snp' });

    const bundle = join(tmp, 'bundle.json');
    const exported = await run(['collateral', 'export', bundle, '--store', online]);
    expect(exported.stdout).toMatch(/exported 9 items/);

    const airGapped = join(tmp, 'air-gapped.sqlite');
    const imported = await run(['collateral', 'import', bundle, '--store', airGapped]);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toMatch(/imported 9 verified items/);
    const verdict = await run(['verify', quoteFile, '--at', at, '--store', airGapped, '--offline', '--json']);
    expect(JSON.parse(verdict.stdout).tcb.status).toBe('UpToDate');
    const snpVerdict = await run([
      'verify',
      snpFile,
      '--at',
      snp.at.toISOString(),
      '--store',
      airGapped,
      '--offline',
      '--json',
    ]);
    expect(JSON.parse(snpVerdict.stdout).verified).toBe(true);

    // A tampered bundle is refused as a whole: nothing of it is stored.
    const text = readFileSync(bundle, 'utf8');
    const json = JSON.parse(text);
    const tcb = json.items.find((item: { kind: string }) => item.kind === 'intel.tcbInfo');
    const body = Buffer.from(tcb.body, 'base64')
      .toString('utf8')
      .replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18');
    tcb.body = Buffer.from(body).toString('base64');
    writeFileSync(join(tmp, 'tampered.json'), JSON.stringify(json));
    const refused = await run([
      'collateral',
      'import',
      join(tmp, 'tampered.json'),
      '--store',
      join(tmp, 'other.sqlite'),
    ]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/COLLATERAL_INVALID: contentHash does not match/);
    tcb.contentHash = (await import('../../src/collateral/items.js')).contentHashOf(
      Buffer.from(body),
      tcb.issuerChain,
    );
    writeFileSync(join(tmp, 'tampered.json'), JSON.stringify(json));
    const resigned = await run([
      'collateral',
      'import',
      join(tmp, 'tampered.json'),
      '--store',
      join(tmp, 'other.sqlite'),
    ]);
    expect(resigned.code).toBe(2);
    expect(resigned.stderr).toMatch(/SIG_INVALID/);
    const empty = await run(['collateral', 'list', '--store', join(tmp, 'other.sqlite')]);
    expect(empty.stdout).toBe('');
  });

  it('fetch of an unreachable service fails with COLLATERAL_UNAVAILABLE (exit 1), one line per file', async () => {
    const out = await run([
      'collateral',
      'fetch',
      quoteFile,
      '--at',
      at,
      '--pcs-url',
      'http://127.0.0.1:1',
      '--store',
      join(tmp, 'x.sqlite'),
    ]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/COLLATERAL_UNAVAILABLE/);
  }, 60_000);
});
