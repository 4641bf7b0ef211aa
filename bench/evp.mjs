// Per-call cost of the channel's primitives: node:crypto's API against the veritee-evp addon (the same
// OpenSSL, called directly, writing into buffers), the two in alternating rounds in one process:
//   node bench/evp.mjs [rounds, default 5]
// Each row is the median over rounds of the mean time per call, outputs allocated per call as the backend
// does (Buffer memory: a small typed array made with a length lives in V8's heap, and passing it to
// native code first moves it out, ~1 µs). No build needed: both sides are called directly.
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hash,
  randomBytes,
} from 'node:crypto';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';

const evp = createRequire(import.meta.url)('veritee-evp');
const ROUNDS = Number(process.argv[2] ?? 5);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const key = randomBytes(32);
const nonce = Buffer.alloc(12);
const none = new Uint8Array(0);
const CHACHA = evp.AEAD['chacha20-poly1305'];

function nodeSealOpen(body) {
  // One OpenSSL update per direction, of the whole body.
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  const sealed = cipher.update(body);
  cipher.final();
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
  decipher.setAuthTag(cipher.getAuthTag());
  decipher.update(sealed);
  decipher.final();
}

function evpSealOpen(body) {
  const sealed = Buffer.allocUnsafe(body.length + 16);
  evp.aeadSeal(CHACHA, key, nonce, none, [body], sealed);
  if (!evp.aeadOpen(CHACHA, key, nonce, none, [sealed], Buffer.allocUnsafe(body.length)))
    throw new Error('open');
}

const peer = new Uint8Array(32);
evp.x25519Generate(peer);
const peerJwk = { kty: 'OKP', crv: 'X25519', x: Buffer.from(peer).toString('base64url') };
const nodeKey = generateKeyPairSync('x25519').privateKey;
const evpKey = evp.x25519Generate(new Uint8Array(32));
const short = randomBytes(64);
const big = randomBytes(64 * 1024);
const record = randomBytes(18);

// [name, calls per timing, node:crypto API, veritee-evp]
const ROWS = [
  ['ChaCha20-Poly1305 seal + open, 64 KiB', 300, () => nodeSealOpen(big), () => evpSealOpen(big)],
  ['ChaCha20-Poly1305 seal + open, 18 bytes', 20_000, () => nodeSealOpen(record), () => evpSealOpen(record)],
  [
    'HMAC-SHA-256 of 64 bytes',
    20_000,
    () => createHmac('sha256', key).update(short).digest(),
    () => evp.hmac(evp.MD['SHA-256'], key, short, Buffer.allocUnsafe(32)),
  ],
  [
    'SHA-256 of 64 bytes (one-shot)',
    20_000,
    () => hash('sha256', short, 'buffer'),
    () => evp.digest(evp.MD['SHA-256'], short, Buffer.allocUnsafe(32)),
  ],
  [
    'X25519 key generation (public key out)',
    1_000,
    () => generateKeyPairSync('x25519', { publicKeyEncoding: { format: 'jwk' } }),
    () => evp.x25519Generate(Buffer.allocUnsafe(32)),
  ],
  [
    'X25519 agreement, peer public key imported',
    1_000,
    () => diffieHellman({ privateKey: nodeKey, publicKey: createPublicKey({ key: peerJwk, format: 'jwk' }) }),
    () => evp.x25519Agree(evpKey, peer, Buffer.allocUnsafe(32)),
  ],
];

function microseconds(fn, calls) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1e3 / calls;
}

console.log(
  `node ${process.version}, OpenSSL ${process.versions.openssl}, ${cpus()[0]?.model} x${cpus().length}`,
);
console.log(`${ROUNDS} rounds, the two sides alternating; median of per-round means:`);
console.log(`${'operation'.padEnd(46)} ${'node:crypto'.padStart(12)} ${'veritee-evp'.padStart(12)}  ratio`);
for (const [name, calls, viaNode, viaEvp] of ROWS) {
  microseconds(viaNode, calls / 10);
  microseconds(viaEvp, calls / 10);
  const times = { node: [], evp: [] };
  for (let round = 0; round < ROUNDS; round++) {
    times.node.push(microseconds(viaNode, calls));
    times.evp.push(microseconds(viaEvp, calls));
  }
  const [a, b] = [median(times.node), median(times.evp)];
  console.log(
    `${name.padEnd(46)} ${`${a.toFixed(2)} µs`.padStart(12)} ${`${b.toFixed(2)} µs`.padStart(12)}  ${(a / b).toFixed(1)}×`,
  );
}

// Record lengths: the addon feeds OpenSSL in runs that are multiples of 128 bytes (evp.c, STRIDE), so every
// length runs at the speed of the best one. Outputs preallocated: allocation and page faults of fresh
// 64 KiB buffers vary by length and heap state far more than the cipher does, and would hide it.
console.log('\nveritee-evp ChaCha20-Poly1305 seal + open by record length (outputs preallocated):');
const lengths = [65_408, 65_472, 65_519, 65_536];
const byLength = Object.fromEntries(lengths.map((length) => [length, []]));
const sealedOut = Buffer.alloc(65_536 + 16);
const openedOut = Buffer.alloc(65_536);
const sealOpenInto = (body) => {
  const sealed = sealedOut.subarray(0, body.length + 16);
  evp.aeadSeal(CHACHA, key, nonce, none, [body], sealed);
  if (!evp.aeadOpen(CHACHA, key, nonce, none, [sealed], openedOut.subarray(0, body.length)))
    throw new Error('open');
};
for (let round = -1; round < ROUNDS; round++) {
  for (const length of lengths) {
    const time = microseconds(() => sealOpenInto(big.subarray(0, length)), 300);
    if (round >= 0) byLength[length].push(time);
  }
}
for (const length of lengths) {
  const note = length % 128 === 0 ? `${length / 128} × 128` : 'not a multiple of 128';
  const time = median(byLength[length]);
  console.log(
    `  ${`${length} bytes (${note})`.padEnd(44)} ${`${time.toFixed(2)} µs`.padStart(12)}  ${(length / time).toFixed(0)} MB/s`,
  );
}
