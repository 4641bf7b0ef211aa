// Exercises every veritee-evp path once under valgrind (docs/channel.md, "Server-side crypto"):
//   valgrind --tool=memcheck node --jitless --expose-gc test/helpers/evp-memcheck.cjs
// Throws on any wrong result; prints "ok <AEAD cases>" at the end.
const evp = require('veritee-evp');
const { randomBytes } = require('node:crypto');

const key = randomBytes(32);
const nonce = randomBytes(12);
const ad = randomBytes(7);

function pieceLayouts(plaintext) {
  const half = plaintext.length >> 1;
  const bytewise = Math.min(plaintext.length, 50);
  return [
    [plaintext],
    [plaintext.subarray(0, half), plaintext.subarray(half)],
    // 50 one-byte pieces, then the rest: the 128-byte stage fills across many pieces.
    [
      ...Array.from({ length: bytewise }, (_, i) => plaintext.subarray(i, i + 1)),
      plaintext.subarray(bytewise),
    ],
  ];
}

let aeadCases = 0;
for (const length of [0, 1, 127, 128, 129, 300, 4097, 65_519]) {
  const plaintext = randomBytes(length);
  for (const aead of [0, 1, 2]) {
    const aeadKey = aead === 2 ? key.subarray(0, 16) : key; // AES-128-GCM takes 16 bytes
    for (const pieces of pieceLayouts(plaintext)) {
      const sealed = Buffer.allocUnsafe(length + 16);
      evp.aeadSeal(aead, aeadKey, nonce, ad, pieces, sealed);
      const opened = Buffer.allocUnsafe(length);
      const received = [sealed.subarray(0, 3), sealed.subarray(3, length + 9), sealed.subarray(length + 9)];
      if (!evp.aeadOpen(aead, aeadKey, nonce, ad, received, opened) || !opened.equals(plaintext)) {
        throw new Error(`round trip failed: AEAD ${aead}, ${length} bytes`);
      }
      sealed[sealed.length - 1] ^= 1;
      if (evp.aeadOpen(aead, aeadKey, nonce, ad, [sealed], opened)) throw new Error('tampered record opened');
      aeadCases++;
    }
  }
}

for (let i = 0; i < 20; i++) {
  const publicA = Buffer.alloc(32);
  const publicB = Buffer.alloc(32);
  const sharedA = Buffer.alloc(32);
  const sharedB = Buffer.alloc(32);
  const a = evp.x25519Generate(publicA);
  const b = evp.x25519Import(randomBytes(32), publicB);
  if (
    !evp.x25519Agree(a, publicB, sharedA) ||
    !evp.x25519Agree(b, publicA, sharedB) ||
    !sharedA.equals(sharedB)
  ) {
    throw new Error('X25519 agreement differs');
  }
  if (evp.x25519Agree(a, Buffer.alloc(32), sharedA)) throw new Error('low-order key accepted');
  if (i % 2 === 1) evp.x25519Erase(a); // the others are freed by their finalizers
}

const digest = Buffer.alloc(64);
evp.digest(evp.MD.BLAKE2b, randomBytes(1000), digest);
evp.hmac(evp.MD['SHA-256'], key, randomBytes(100), digest.subarray(0, 32));

const misuse = [
  () => evp.aeadSeal(0, key, nonce, ad, [Buffer.alloc(5)], Buffer.alloc(3)),
  () => evp.x25519Agree({}, key, key),
  () => evp.aeadOpen(0, key, nonce, ad, [Buffer.alloc(3)], Buffer.alloc(0)),
];
for (const call of misuse) {
  let code;
  try {
    call();
  } catch (error) {
    code = error.code;
  }
  if (code === undefined) throw new Error('misuse was not refused with a code');
}

global.gc?.();
console.log('ok', aeadCases);
