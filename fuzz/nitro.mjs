// Long-running mutation fuzzer for the Nitro path (CBOR → COSE → document → chain → signature).
// Every input must yield a result or a VeriteeError: any other exception, or a case slower than the
// limit, is a finding. Deterministic for a given seed.
// Run: npm run fuzz -- [cases=100000] [seed=1]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const root = join(import.meta.dirname, '..');
const { VeriteeError } = await import(join(root, 'dist', 'errors.js'));
const { parseNitroEvidence, verifyNitroEvidence } = await import(
  join(root, 'dist', 'platforms', 'nitro', 'index.js')
);

const cases = Number(process.argv[2] ?? 100_000);
let seed = Number(process.argv[3] ?? 1) >>> 0;
const SLOW_MS = 250;

// xorshift32: reproducible without a dependency.
function random() {
  seed ^= seed << 13;
  seed >>>= 0;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  seed >>>= 0;
  return seed / 0x100000000;
}
const int = (n) => Math.floor(random() * n);

const dir = join(root, 'test', 'vectors', 'nitro');
const corpus = readdirSync(dir).map((name) => ({
  bytes: new Uint8Array(readFileSync(join(dir, name, 'attestation_doc.cose'))),
  at: new Date(JSON.parse(readFileSync(join(dir, name, 'expected.json'), 'utf8')).verification_time.unix_ms),
}));

const INTERESTING = [
  0x00, 0x01, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x40, 0x5f, 0x7f, 0x80, 0x9f, 0xa0, 0xbf, 0xd2, 0xf6, 0xf7,
  0xff,
];

function mutate(input) {
  let bytes = input.slice();
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    const at = int(bytes.length + 1);
    switch (int(7)) {
      case 0: // flip a bit
        if (bytes.length > 0) bytes[at % bytes.length] ^= 1 << int(8);
        break;
      case 1: // set an interesting CBOR head byte
        if (bytes.length > 0) bytes[at % bytes.length] = INTERESTING[int(INTERESTING.length)];
        break;
      case 2: // truncate
        bytes = bytes.subarray(0, at);
        break;
      case 3: // insert random bytes
        bytes = new Uint8Array([
          ...bytes.subarray(0, at),
          ...Array.from({ length: 1 + int(8) }, () => int(256)),
          ...bytes.subarray(at),
        ]);
        break;
      case 4: // delete a range
        bytes = new Uint8Array([...bytes.subarray(0, at), ...bytes.subarray(at + 1 + int(16))]);
        break;
      case 5: // duplicate a range (repeated structures, length confusion)
        {
          const len = 1 + int(64);
          bytes = new Uint8Array([
            ...bytes.subarray(0, at),
            ...bytes.subarray(at, at + len),
            ...bytes.subarray(at),
          ]);
        }
        break;
      default: {
        // splice with another document
        const other = corpus[int(corpus.length)].bytes;
        const from = int(other.length);
        bytes = new Uint8Array([...bytes.subarray(0, at), ...other.subarray(from, from + 1 + int(256))]);
      }
    }
  }
  return bytes;
}

const outcomes = new Map();
let accepted = 0;
const start = performance.now();
for (let i = 0; i < cases; i++) {
  const base = corpus[int(corpus.length)];
  const input = i % 10 === 0 ? Uint8Array.from({ length: int(512) }, () => int(256)) : mutate(base.bytes);
  const t0 = performance.now();
  try {
    await verifyNitroEvidence(parseNitroEvidence(input), { at: base.at });
    // Only the original bytes (the mutations cancelled out) may be accepted.
    if (Buffer.compare(Buffer.from(input), Buffer.from(base.bytes)) !== 0) {
      console.error(
        `FINDING at case ${i}: a changed document was accepted\ninput (hex): ${Buffer.from(input).toString('hex')}`,
      );
      process.exit(1);
    }
    accepted++;
    outcomes.set('accepted', (outcomes.get('accepted') ?? 0) + 1);
  } catch (error) {
    if (!(error instanceof VeriteeError)) {
      console.error(
        `FINDING at case ${i}: ${error?.stack ?? error}\ninput (hex): ${Buffer.from(input).toString('hex')}`,
      );
      process.exit(1);
    }
    outcomes.set(error.code, (outcomes.get(error.code) ?? 0) + 1);
  }
  const elapsed = performance.now() - t0;
  if (elapsed > SLOW_MS) {
    console.error(
      `FINDING at case ${i}: took ${elapsed.toFixed(0)} ms\ninput (hex): ${Buffer.from(input).toString('hex')}`,
    );
    process.exit(1);
  }
}
const seconds = (performance.now() - start) / 1000;
console.log(`${cases} cases in ${seconds.toFixed(1)} s, no finding. Outcomes:`);
for (const [code, count] of [...outcomes.entries()].sort((a, b) => b[1] - a[1]))
  console.log(`  ${code.padEnd(28)} ${count}`);
if (accepted > 0)
  console.log(
    `(${accepted} accepted inputs were byte-identical to their original: the mutations cancelled out)`,
  );
