// The attested channel, one process, against the built library (`npm run build` first):
//   node bench/channel.mjs [seconds per row, default BENCH_SECONDS or 3]
// Rows (same run, same process, interleaved where it matters):
//   - handshakes/s, client and server on this core, over an in-memory link: without evidence
//     verification (a stub evidence source/verifier: Noise XX + handshake payloads + binding check), and
//     with the simulator (a Nitro-format document signed per handshake, then verified: chain + ES384 +
//     policy + binding);
//   - handshakes/s over TCP loopback (connect, handshake, close), without evidence verification;
//   - bulk 64 KiB messages over TCP loopback, one way, both ends in this process (each byte sealed and
//     opened on this core), beside Node's TLS 1.3 on loopback (same shape) and the raw node:crypto
//     ChaCha20-Poly1305 seal+open of 64 KiB (the floor for any channel doing both ends on one core).
import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';
import { toHex } from '../dist/bytes.js';
import { acceptChannel, connectChannel } from '../dist/channel/channel.js';
import { FrameQueue } from '../dist/channel/link.js';
import { backend } from '../dist/crypto/node.js';
import { simulatorProvider } from '../dist/runtime/providers/sim.js';
import { simulatorAnchor } from '../dist/runtime/sim/store.js';
import { issueCertificate } from '../dist/runtime/sim/x509.js';
import { connectTcp, listenTcp } from '../dist/runtime/tcp.js';
import { loadPolicy } from '../dist/verify.js';

const SECONDS = Number(process.argv[2] ?? process.env.BENCH_SECONDS ?? 3);
const MESSAGE = 64 * 1024;

function linkPair() {
  const a = new FrameQueue();
  const b = new FrameQueue();
  const make = (inbox, outbox) => ({
    send: (frame) => outbox.push(frame),
    receive: () => inbox.receive(),
    close: () => {
      outbox.end();
      inbox.end();
    },
  });
  return [make(a, b), make(b, a)];
}

async function rate(fn, seconds = SECONDS) {
  for (let i = 0; i < 200; i++) await fn();
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    await fn();
    count++;
  }
  return (count * 1000) / (performance.now() - start);
}

const rows = [];
const log = (name, value, unit) => {
  rows.push([name, value, unit]);
  console.log(`${name.padEnd(78)} ${value.toFixed(value >= 100 ? 0 : 1).padStart(8)} ${unit}`);
};

console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${SECONDS}s per row, one process`,
);

// --- handshakes, in memory -------------------------------------------------------------------------
const serverKey = backend.x25519Generate();
const stubSource = { getEvidence: async (reportData) => ({ evidence: reportData, platform: 'stub' }) };
const stubVerifier = async (evidence) => ({
  verdict: 'affirming',
  reportData: toHex(evidence),
  errors: [],
  checks: [],
});

async function handshakeInMemory(serverOptions, clientOptions) {
  const [clientLink, serverLink] = linkPair();
  const server = acceptChannel(serverLink, { staticKeyPair: serverKey, ...serverOptions });
  const client = await connectChannel(clientLink, clientOptions);
  await server;
  client.close();
}

// The floor under any XX handshake on node:crypto: 3 key generations (2 ephemeral, the client's fresh
// static), 4 imports of a received public key, 6 X25519 operations.
{
  const { createPublicKey, diffieHellman, generateKeyPairSync } = await import('node:crypto');
  const peer = generateKeyPairSync('x25519');
  const x = peer.publicKey.export({ format: 'jwk' }).x;
  log(
    'floor: X25519 work of one XX handshake, both sides (3 keygen, 4 imports, 6 DH)',
    await rate(() => {
      for (let i = 0; i < 3; i++) generateKeyPairSync('x25519');
      for (let i = 0; i < 4; i++) createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
      for (let i = 0; i < 6; i++) diffieHellman({ privateKey: peer.privateKey, publicKey: peer.publicKey });
    }),
    'handshakes/s',
  );
}
{
  const { HandshakeState } = await import('../dist/channel/noise.js');
  const protocol = 'Noise_XX_25519_ChaChaPoly_BLAKE2b';
  log(
    'Noise XX state machine alone (HandshakeState, both sides, no I/O, no payloads)',
    await rate(() => {
      const i = new HandshakeState({ protocol, initiator: true, staticKeyPair: backend.x25519Generate() });
      const r = new HandshakeState({ protocol, initiator: false, staticKeyPair: serverKey });
      r.readMessage(i.writeMessage());
      i.readMessage(r.writeMessage(new Uint8Array(64)));
      r.readMessage(i.writeMessage());
    }),
    'handshakes/s',
  );
}
log(
  'handshakes/s, in memory, no evidence verification (stub evidence)',
  await rate(() => handshakeInMemory({ evidence: stubSource }, { verifier: stubVerifier })),
  'handshakes/s',
);

const simDir = mkdtempSync(join(tmpdir(), 'veritee-bench-sim-'));
const sim = simulatorProvider({ dir: simDir, warn: () => {} });
const anchor = await simulatorAnchor(simDir);
const policy = loadPolicy({ platforms: ['sim'] });
log(
  'handshakes/s, in memory, simulator evidence signed + verified (chain, ES384, policy, binding)',
  await rate(() => handshakeInMemory({ evidence: sim }, { simulatorRoots: [anchor], policy })),
  'handshakes/s',
);
const doc = (await sim.getEvidence(new Uint8Array(64))).evidence;
const { verify } = await import('../dist/verify.js');
log(
  '  of which: verify() of one simulator document alone',
  await rate(() => verify(doc, { simulatorRoots: [anchor], policy })),
  'verifications/s',
);
log(
  '  of which: simulator signing one document alone',
  await rate(() => sim.getEvidence(new Uint8Array(64))),
  'documents/s',
);

// --- handshakes over TCP ----------------------------------------------------------------------------
const tcpServer = await listenTcp(0, '127.0.0.1', async (link) => {
  try {
    const channel = await acceptChannel(link, { staticKeyPair: serverKey, evidence: stubSource });
    for await (const message of channel) channel.send(message);
    channel.close();
  } catch {}
});
const tcpPort = tcpServer.address().port;
log(
  'handshakes/s, TCP loopback (connect + handshake + close), no evidence verification',
  await rate(async () => {
    const channel = await connectChannel(await connectTcp('127.0.0.1', tcpPort), { verifier: stubVerifier });
    channel.close();
  }),
  'handshakes/s',
);

// --- bulk -------------------------------------------------------------------------------------------
const payload = randomBytes(MESSAGE);

async function bulkChannel(seconds) {
  // A sink server: counts bytes, answers once at the end.
  const sink = await listenTcp(0, '127.0.0.1', async (link) => {
    const channel = await acceptChannel(link, { staticKeyPair: serverKey, evidence: stubSource });
    let bytes = 0;
    for await (const message of channel) {
      if (message.length === 1) {
        channel.send(String(bytes));
        continue;
      }
      bytes += message.length;
    }
    channel.close();
  });
  const channel = await connectChannel(await connectTcp('127.0.0.1', sink.address().port), {
    verifier: stubVerifier,
  });
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < 64; i++) channel.send(payload);
    sent += 64 * MESSAGE;
    channel.send(new Uint8Array(1)); // a marker: wait for the sink to catch up (bounded buffering)
    await channel.receive();
  }
  const mbps = sent / 1e6 / ((performance.now() - start) / 1000);
  channel.close();
  sink.close();
  return mbps;
}

function tlsPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = { commonName: 'localhost', organization: 'bench' };
  const der = issueCertificate({
    subject,
    issuer: subject,
    publicKey,
    signingKey: privateKey,
    serial: randomBytes(8),
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 3600_000),
    ca: false,
  });
  const cert = `-----BEGIN CERTIFICATE-----\n${Buffer.from(der).toString('base64')}\n-----END CERTIFICATE-----\n`;
  return { key: privateKey.export({ format: 'pem', type: 'pkcs8' }), cert };
}

async function bulkTls(seconds, ciphersuites) {
  const { key, cert } = tlsPair();
  const server = tlsCreateServer({ key, cert, minVersion: 'TLSv1.3', ciphersuites }, (socket) => {
    let bytes = 0;
    socket.on('data', (chunk) => {
      bytes += chunk.length;
      if (bytes >= socket.expected) {
        socket.write('k');
        bytes = 0;
      }
    });
    socket.expected = 64 * MESSAGE;
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = tlsConnect({
    port: server.address().port,
    host: '127.0.0.1',
    rejectUnauthorized: false,
    ciphersuites,
  });
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  for (let round = 0; round < 8; round++) {
    const acked = new Promise((resolve) => socket.once('data', resolve));
    for (let i = 0; i < 64; i++) socket.write(payload);
    await acked;
  }
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    const acked = new Promise((resolve) => socket.once('data', resolve));
    for (let i = 0; i < 64; i++) socket.write(payload);
    sent += 64 * MESSAGE;
    await acked;
  }
  const mbps = sent / 1e6 / ((performance.now() - start) / 1000);
  socket.destroy();
  server.close();
  return mbps;
}

function rawAead(seconds, open) {
  const key = randomBytes(32);
  const nonce = Buffer.alloc(12);
  const start = performance.now();
  let bytes = 0;
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < 16; i++) {
      nonce.writeUInt32LE(i, 4);
      const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      const sealed = cipher.update(payload);
      cipher.final();
      const tag = cipher.getAuthTag();
      if (open) {
        const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
        decipher.setAuthTag(tag);
        decipher.update(sealed);
        decipher.final();
      }
      bytes += MESSAGE;
    }
  }
  return bytes / 1e6 / ((performance.now() - start) / 1000);
}

// Interleave three rounds so drift on a shared machine hits every row alike; report medians.
const bulk = { channel: [], tlsChacha: [], tlsAes: [], seal: [], sealOpen: [] };
for (let round = 0; round < 3; round++) {
  bulk.channel.push(await bulkChannel(SECONDS / 3));
  bulk.tlsChacha.push(await bulkTls(SECONDS / 3, 'TLS_CHACHA20_POLY1305_SHA256'));
  bulk.tlsAes.push(await bulkTls(SECONDS / 3, 'TLS_AES_128_GCM_SHA256'));
  bulk.seal.push(rawAead(SECONDS / 3, false));
  bulk.sealOpen.push(rawAead(SECONDS / 3, true));
}
const median = (values) => [...values].sort((a, b) => a - b)[1];
const channelMbps = median(bulk.channel);
const sealOpenMbps = median(bulk.sealOpen);
log('bulk, veritee channel over TCP loopback, 64 KiB messages (ChaCha20-Poly1305)', channelMbps, 'MB/s');
log(
  'bulk, Node TLS 1.3 over TCP loopback, 64 KiB writes, TLS_CHACHA20_POLY1305_SHA256',
  median(bulk.tlsChacha),
  'MB/s',
);
log(
  'bulk, Node TLS 1.3 over TCP loopback, 64 KiB writes, TLS_AES_128_GCM_SHA256',
  median(bulk.tlsAes),
  'MB/s',
);
log('raw node:crypto ChaCha20-Poly1305, 64 KiB, seal only', median(bulk.seal), 'MB/s');
log('raw node:crypto ChaCha20-Poly1305, 64 KiB, seal + open (both ends, one core)', sealOpenMbps, 'MB/s');
console.log(`\nchannel / raw seal+open: ${((100 * channelMbps) / sealOpenMbps).toFixed(0)}%`);
tcpServer.close();
process.exit(0);
