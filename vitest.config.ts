import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The package's `#crypto` import points at dist/; tests run the sources with the Node backend.
    alias: { '#crypto': fileURLToPath(new URL('./src/crypto/node.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'threads',
  },
});
