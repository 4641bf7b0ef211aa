/** Evidence providers against fake TEE interfaces: configfs-tsm trees, a dstack socket, Gramine, the NSM. */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/bytes.js';
import { CborMap, decodeCbor } from '../../src/cbor.js';
import { VeriteeError } from '../../src/errors.js';
import {
  createProvider,
  detectTee,
  dstackProvider,
  gramineProvider,
  NSM_REQUEST_MAX_SIZE,
  nitroProvider,
  nsmAttestationRequest,
  parseNsmResponse,
  tsmProvider,
} from '../../src/runtime/providers/index.js';
import { verify } from '../../src/verify.js';
import { SIM_POLICY, simSetup } from '../helpers/channel.js';
import { bumpGeneration, fakeTsmKernel } from '../helpers/fake-tsm.js';

const REPORT_DATA = Uint8Array.from({ length: 64 }, (_, i) => i);

function temp(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `veritee-${prefix}-`));
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VeriteeError);
    return (error as VeriteeError).code;
  }
  return 'resolved';
}

describe('configfs-tsm', () => {
  it('writes inblob, reads outblob, checks generation, removes its entry (TDX)', async () => {
    const root = temp('tsm');
    const fs = fakeTsmKernel(root);
    const provider = tsmProvider({ root, fs });
    const { evidence, platform } = await provider.getEvidence(REPORT_DATA);
    expect(platform).toBe('tdx');
    expect(evidence).toEqual(Uint8Array.from([4, 0, 2, 0, ...REPORT_DATA]));
    expect(fs.created).toHaveLength(1);
    expect(readdirSync(root)).toEqual([]);
  });

  it('returns the SEV-SNP auxblob (certificate table) beside the report', async () => {
    const root = temp('tsm');
    const provider = tsmProvider({ root, fs: fakeTsmKernel(root, { provider: 'sev_guest' }) });
    const result = await provider.getEvidence(REPORT_DATA);
    expect(result.platform).toBe('sev-snp');
    expect(result.auxiliary).toEqual(Uint8Array.of(1, 2, 3));
  });

  it('uses a separate entry for each concurrent request', async () => {
    const root = temp('tsm');
    const fs = fakeTsmKernel(root);
    const provider = tsmProvider({ root, fs });
    const results = await Promise.all(
      [1, 2, 3, 4].map((n) => provider.getEvidence(new Uint8Array(64).fill(n))),
    );
    expect(results.map((result) => result.evidence.at(-1))).toEqual([1, 2, 3, 4]);
    expect(new Set(fs.created).size).toBe(4);
  });

  it('detects another writer between our write and our read (generation race)', async () => {
    const root = temp('tsm');
    const provider = tsmProvider({ root, fs: fakeTsmKernel(root, { afterOutblobRead: bumpGeneration }) });
    expect(await codeOf(provider.getEvidence(REPORT_DATA))).toBe('PROVIDER_RACE');
    expect(readdirSync(root)).toEqual([]);
  });

  it('reports absent configfs, unknown providers, bad counters, bad report data', async () => {
    expect(await codeOf(tsmProvider({ root: join(temp('tsm'), 'missing') }).getEvidence(REPORT_DATA))).toBe(
      'PROVIDER_UNAVAILABLE',
    );
    const root = temp('tsm');
    expect(
      await codeOf(
        tsmProvider({ root, fs: fakeTsmKernel(root, { provider: 'mystery' }) }).getEvidence(REPORT_DATA),
      ),
    ).toBe('PROVIDER_FAILED');
    const fs = fakeTsmKernel(root);
    const corrupt = {
      ...fs,
      readFile: async (path: string) =>
        path.endsWith('generation') ? Uint8Array.of(0x78) : fs.readFile(path),
    };
    expect(await codeOf(tsmProvider({ root, fs: corrupt }).getEvidence(REPORT_DATA))).toBe('PROVIDER_FAILED');
    expect(await codeOf(tsmProvider({ root, fs }).getEvidence(new Uint8Array(63)))).toBe('ARGUMENT_INVALID');
    const empty = fakeTsmKernel(root, { outblob: () => new Uint8Array(0) });
    expect(await codeOf(tsmProvider({ root, fs: empty }).getEvidence(REPORT_DATA))).toBe('PROVIDER_FAILED');
    // A plain directory (no kernel behind it): the entry has no provider file.
    expect(await codeOf(tsmProvider({ root: temp('tsm') }).getEvidence(REPORT_DATA))).toBe('PROVIDER_FAILED');
  });
});

describe('dstack guest agent (unix socket)', () => {
  const servers: Server[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  async function agent(socketName: string, handler: Parameters<typeof createServer>[1]): Promise<string> {
    const path = join(temp('dstack'), socketName);
    const server = createServer(handler!);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(path, resolve));
    return path;
  }

  it('POSTs report_data to /GetQuote and decodes the quote', async () => {
    const seen: string[] = [];
    const socketPath = await agent('dstack.sock', (req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        seen.push(`${req.method} ${req.url} ${body}`);
        const { report_data } = JSON.parse(body);
        res.end(JSON.stringify({ quote: `0400${report_data}`, event_log: '[]' }));
      });
    });
    const { evidence, platform } = await dstackProvider({ socketPath }).getEvidence(REPORT_DATA);
    expect(platform).toBe('tdx');
    expect(toHex(evidence)).toBe(`0400${toHex(REPORT_DATA)}`);
    expect(seen).toEqual([`POST /GetQuote {"report_data":"${toHex(REPORT_DATA)}"}`]);
  });

  it('speaks the legacy tappd endpoint on tappd.sock', async () => {
    let url = '';
    const socketPath = await agent('tappd.sock', (req, res) => {
      url = req.url ?? '';
      res.end(JSON.stringify({ quote: '0x0400' }));
    });
    expect(toHex((await dstackProvider({ socketPath }).getEvidence(REPORT_DATA)).evidence)).toBe('0400');
    expect(url).toBe('/prpc/Tappd.RawQuote?json');
  });

  it('turns every bad answer into a typed error', async () => {
    const answers: [number, string][] = [
      [500, 'boom'],
      [200, 'not json'],
      [200, '{"event_log":"[]"}'],
      [200, '{"quote":"zz"}'],
      [200, 'null'],
    ];
    for (const [status, body] of answers) {
      const socketPath = await agent('dstack.sock', (_req, res) => {
        res.statusCode = status;
        res.end(body);
      });
      expect(await codeOf(dstackProvider({ socketPath }).getEvidence(REPORT_DATA))).toBe('PROVIDER_FAILED');
    }
    const huge = await agent('dstack.sock', (_req, res) => res.end('x'.repeat(5 << 20)));
    expect(await codeOf(dstackProvider({ socketPath: huge }).getEvidence(REPORT_DATA))).toBe(
      'PROVIDER_FAILED',
    );
    const silent = await agent('dstack.sock', () => {});
    expect(
      await codeOf(dstackProvider({ socketPath: silent, timeoutMs: 100 }).getEvidence(REPORT_DATA)),
    ).toBe('PROVIDER_FAILED');
    const missing = join(temp('dstack'), 'dstack.sock');
    expect(await codeOf(dstackProvider({ socketPath: missing }).getEvidence(REPORT_DATA))).toBe(
      'PROVIDER_UNAVAILABLE',
    );
  });
});

describe('Gramine /dev/attestation', () => {
  function tree(type: string | undefined): string {
    const root = temp('gramine');
    if (type !== undefined) writeFileSync(join(root, 'attestation_type'), `${type}\n`);
    writeFileSync(join(root, 'quote'), Uint8Array.of(3, 0, 2, 0, 9));
    return root;
  }

  it('writes user_report_data and reads the quote', async () => {
    const root = tree('dcap');
    const { evidence, platform } = await gramineProvider({ root }).getEvidence(REPORT_DATA);
    expect(platform).toBe('sgx');
    expect(evidence).toEqual(Uint8Array.of(3, 0, 2, 0, 9));
    expect(new Uint8Array(readFileSync(join(root, 'user_report_data')))).toEqual(REPORT_DATA);
  });

  it('reports a missing device, disabled attestation and unknown types', async () => {
    expect(await codeOf(gramineProvider({ root: tree(undefined) }).getEvidence(REPORT_DATA))).toBe(
      'PROVIDER_UNAVAILABLE',
    );
    expect(await codeOf(gramineProvider({ root: tree('none') }).getEvidence(REPORT_DATA))).toBe(
      'PROVIDER_UNAVAILABLE',
    );
    expect(await codeOf(gramineProvider({ root: tree('tpm') }).getEvidence(REPORT_DATA))).toBe(
      'PROVIDER_FAILED',
    );
  });
});

describe('Nitro NSM', () => {
  it('says clearly when /dev/nsm is absent (the addon path is covered in nsm-native.test.ts)', async () => {
    const device = join(temp('nsm'), 'nsm');
    const error = await nitroProvider({ device })
      .getEvidence(REPORT_DATA)
      .catch((e: VeriteeError) => e);
    expect((error as VeriteeError).code).toBe('PROVIDER_UNAVAILABLE');
    expect((error as VeriteeError).details).toMatch(/not inside an AWS Nitro Enclave/);
  });

  it('maps errno codes thrown by an injected driver to typed errors', async () => {
    const failing = (code: string) => ({
      request: async () => Promise.reject(Object.assign(new Error(code), { code })),
    });
    const cases = {
      ENOENT: 'PROVIDER_UNAVAILABLE',
      ENOTTY: 'PROVIDER_UNAVAILABLE',
      EACCES: 'PROVIDER_UNAVAILABLE',
      EMSGSIZE: 'PROVIDER_FAILED',
      EIO: 'PROVIDER_FAILED',
    };
    for (const [code, expected] of Object.entries(cases)) {
      expect(await codeOf(nitroProvider({ driver: failing(code) }).getEvidence(REPORT_DATA))).toBe(expected);
    }
    const notBytes = { request: async () => 'document' as unknown as Uint8Array };
    expect(await codeOf(nitroProvider({ driver: notBytes }).getEvidence(REPORT_DATA))).toBe(
      'PROVIDER_FAILED',
    );
  });

  it('builds the NSM request and parses its answer (fake driver answering with simulator documents)', async () => {
    const sim = await simSetup();
    const dir = temp('nsm');
    writeFileSync(join(dir, 'nsm'), '');
    const driver = {
      async request(cbor: Uint8Array) {
        const request = decodeCbor(cbor) as CborMap;
        const attestation = request.get('Attestation') as CborMap;
        expect(attestation.get('nonce')).toBeNull();
        const userData = attestation.get('user_data') as Uint8Array;
        const { evidence } = await sim.provider.getEvidence(userData);
        return Uint8Array.from([
          0xa1,
          0x6b,
          ...new TextEncoder().encode('Attestation'),
          0xa1,
          0x68,
          ...new TextEncoder().encode('document'),
          0x59,
          evidence.length >> 8,
          evidence.length & 0xff,
          ...evidence,
        ]);
      },
    };
    const { evidence, platform } = await nitroProvider({ device: join(dir, 'nsm'), driver }).getEvidence(
      REPORT_DATA,
    );
    expect(platform).toBe('nitro');
    const result = await verify(evidence, { simulatorRoots: [sim.anchor], policy: SIM_POLICY });
    expect(result.verdict).toBe('affirming');
    expect(result.userData).toBe(toHex(REPORT_DATA));
  });

  it('refuses NSM errors and malformed answers', () => {
    const errorAnswer = Uint8Array.from([
      0xa1,
      0x65,
      ...new TextEncoder().encode('Error'),
      0x6f,
      ...new TextEncoder().encode('InvalidArgument'),
    ]);
    for (const answer of [
      errorAnswer,
      Uint8Array.of(0xff),
      Uint8Array.of(0xa0),
      new Uint8Array(20_000),
      fromHex('6474657374'),
    ]) {
      expect(() => parseNsmResponse(answer)).toThrow(VeriteeError);
    }
    expect(decodeCbor(nsmAttestationRequest(REPORT_DATA))).toBeInstanceOf(CborMap);
    // The NSM takes at most 512 bytes of user_data.
    expect(nsmAttestationRequest(new Uint8Array(512)).length).toBeLessThan(NSM_REQUEST_MAX_SIZE);
    expect(() => nsmAttestationRequest(new Uint8Array(513))).toThrow(VeriteeError);
  });

  it("returns a copy of the document, not a view of the driver's buffer", () => {
    const answer = Buffer.from(fromHex('a16b4174746573746174696f6ea168646f63756d656e744301020300'));
    const document = parseNsmResponse(answer.subarray(0, answer.length - 1));
    expect(document).toEqual(Uint8Array.of(1, 2, 3));
    expect(Buffer.isBuffer(document)).toBe(false);
    answer.fill(0);
    expect(document).toEqual(Uint8Array.of(1, 2, 3));
  });
});

describe('auto-detection', () => {
  const nowhere = () => {
    const dir = temp('none');
    return {
      tsmRoot: join(dir, 'tsm'),
      dstackSockets: [join(dir, 'dstack.sock')],
      gramineRoot: join(dir, 'attestation'),
      nsmDevice: join(dir, 'nsm'),
    };
  };

  it('prefers real hardware, in order', async () => {
    const paths = nowhere();
    expect(await detectTee(paths)).toBeUndefined();
    mkdirSync(paths.gramineRoot);
    writeFileSync(join(paths.gramineRoot, 'attestation_type'), 'dcap');
    writeFileSync(paths.nsmDevice, '');
    expect(await detectTee(paths)).toBe('gramine');
    mkdirSync(paths.tsmRoot);
    expect(await detectTee(paths)).toBe('tsm');
    expect((await createProvider('auto', paths)).name).toBe('tsm');
  });

  it('falls back to the simulator loudly, or refuses when it is not allowed', async () => {
    const warnings: string[] = [];
    const provider = await createProvider('auto', {
      ...nowhere(),
      simulator: { dir: temp('sim'), warn: (message) => warnings.push(message) },
    });
    expect(provider.name).toBe('sim');
    expect(provider.simulated).toBe(true);
    expect(warnings.join('\n')).toMatch(/SIMULATOR.*NOT real hardware/);
    expect(await codeOf(createProvider('auto', { ...nowhere(), allowSimulator: false }))).toBe(
      'PROVIDER_UNAVAILABLE',
    );
    expect(await codeOf(createProvider('bogus' as 'sim'))).toBe('ARGUMENT_INVALID');
  });
});
