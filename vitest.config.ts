import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        // The whole suite on the Node backend (node:crypto, with the veritee-evp addon when built), as the
        // server and CLI run.
        resolve: { alias: { '#crypto': source('./src/crypto/node.ts') } },
        test: { name: 'node', include: ['test/**/*.test.ts'], testTimeout: 120_000 },
      },
      {
        // The browser backend (@noble + WebCrypto) on the platform and PKI suites: the library core
        // must reach the same verdicts without node:crypto.
        resolve: { alias: { '#crypto': source('./src/crypto/web.ts') } },
        test: {
          name: 'web-crypto',
          testTimeout: 120_000,
          include: [
            'test/nitro.test.ts',
            'test/nitro-negative.test.ts',
            'test/pki.test.ts',
            'test/ear.test.ts',
            'test/policy.test.ts',
            'test/snp/vectors.test.ts',
            'test/snp/negatives.test.ts',
            'test/snp/appraise.test.ts',
            'test/channel/noise-vectors.test.ts',
            'test/channel/memory.test.ts',
            'test/eif.test.ts',
            'test/eventlog.test.ts',
            'test/release.test.ts',
            'test/merkle.test.ts',
            'test/translog.test.ts',
            'test/kms/hpke.test.ts',
          ],
        },
      },
      {
        // The node backend without the veritee-evp addon (node:crypto's API alone), as it runs where the
        // addon could not be built: the channel and the crypto interface must behave the same.
        resolve: { alias: { '#crypto': source('./test/helpers/node-crypto-api.ts') } },
        test: {
          name: 'node-crypto-api',
          testTimeout: 120_000,
          include: [
            'test/channel/noise-vectors.test.ts',
            'test/channel/memory.test.ts',
            'test/channel/mitm.test.ts',
            'test/channel/interop.test.ts',
            'test/kms/hpke.test.ts',
          ],
        },
      },
    ],
  },
});
