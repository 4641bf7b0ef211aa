/** The node backend on node:crypto's own API alone (no veritee-evp addon): the `node-crypto-api` test project's #crypto. */
import { createNodeBackend } from '../../src/crypto/node.js';

export const backend = createNodeBackend(undefined);
