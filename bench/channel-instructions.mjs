// Instruction counts for the channel's bulk path, independent of machine load (`npm run build` first):
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/channel-instructions.mjs <mode> <count>
// mode: raw (node:crypto ChaCha20-Poly1305 seal + open of 64 KiB), records (the same for the two Noise
// records of a 64 KiB message: 65,518 + 18 bytes), memory or tcp (the channel, both ends in
// this process, one 64 KiB message at a time, the receiver taking it as pieces: receiveParts), memory-joined
// (the same with receive(), which joins the pieces). Run each mode with count 0 and, say, 300: the
// difference divided by 300 is the instructions per message.
import { randomBytes } from 'node:crypto';
import { toHex } from '../dist/bytes.js';
import { acceptChannel, connectChannel } from '../dist/channel/channel.js';
import { backend } from '../dist/crypto/node.js';
import { connectTcp, listenTcp } from '../dist/runtime/tcp.js';
import { memoryLinkPair, rawSealOpen } from './channel-lib.mjs';

const [mode, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 0);
const payload = randomBytes(64 * 1024);
const stubSource = { getEvidence: async (reportData) => ({ evidence: reportData, platform: 'stub' }) };
const stubVerifier = async (evidence) => ({
  verdict: 'affirming',
  reportData: toHex(evidence),
  errors: [],
  checks: [],
});
const serverOptions = { staticKeyPair: backend.x25519Generate(), evidence: stubSource };

function rawAead(bodies) {
  const key = randomBytes(32);
  const nonce = Buffer.alloc(12);
  for (let i = 0; i < count; i++) {
    for (const body of bodies) {
      nonce.writeUInt32LE(i, 4);
      rawSealOpen(key, nonce, body);
    }
  }
}

async function pairInMemory() {
  const [clientLink, serverLink] = memoryLinkPair();
  const server = acceptChannel(serverLink, serverOptions);
  const client = await connectChannel(clientLink, { verifier: stubVerifier });
  return { client, server: await server, close: () => {} };
}

async function pairOverTcp() {
  let accepted;
  const server = new Promise((resolve) => {
    accepted = resolve;
  });
  const listener = await listenTcp(0, '127.0.0.1', (link) => accepted(acceptChannel(link, serverOptions)));
  const link = await connectTcp('127.0.0.1', listener.address().port);
  const client = await connectChannel(link, { verifier: stubVerifier });
  return { client, server: await server, close: () => listener.close() };
}

if (mode === 'raw') rawAead([payload]);
else if (mode === 'records') rawAead([payload.subarray(0, 65_518), payload.subarray(65_518)]);
else if (mode === 'memory' || mode === 'memory-joined' || mode === 'tcp') {
  const { client, server, close } = mode === 'tcp' ? await pairOverTcp() : await pairInMemory();
  for (let i = 0; i < count; i++) {
    client.send(payload);
    await (mode === 'memory-joined' ? server.receive() : server.receiveParts());
  }
  client.close();
  close();
} else {
  console.error('usage: node bench/channel-instructions.mjs raw|records|memory|memory-joined|tcp <count>');
  process.exit(2);
}
process.exit(0);
