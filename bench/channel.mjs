// The attested channel, one process, against the built library (`npm run build` first):
//   node bench/channel.mjs [seconds per row, default BENCH_SECONDS or 3]
// Rows (same run, same process, interleaved where it matters):
//   - handshakes/s, client and server on this core, over an in-memory link: without evidence
//     verification (a stub evidence source/verifier: Noise XX + handshake payloads + binding check), and
//     with the simulator (a Nitro-format document signed per handshake, then verified: chain + ES384 +
//     policy + binding); and the server's half alone (client turns untimed, no I/O);
//   - handshakes/s over TCP loopback (connect, handshake, close), without evidence verification;
//   - handshakes one server core completes over TCP, alone: clients (a worker) and server (this thread)
//     take turns, only the server's turns timed, beside Node's TLS 1.3 server run the same way;
//   - bulk 64 KiB messages, one way, both ends in this process (each byte sealed and opened on this
//     core): over an in-memory link (the receiver taking messages as pieces, and joined), alternating
//     every 16 messages with the raw node:crypto ChaCha20-Poly1305 seal+open of the same 64 KiB (the
//     floor for any channel doing both ends on one core) and of the two Noise records a 64 KiB message
//     needs (65,518 + 18 bytes: Noise caps a message at 65,535 bytes); and over TCP loopback beside
//     Node's TLS 1.3 (same shape: 64 writes of 64 KiB, then an acknowledgement), rows interleaved over
//     ROUNDS rounds, ratios the medians of per-round ratios;
//   - bulk 64 KiB messages deployment-shaped: sender and receiver on two threads (each end on its own core,
//     as a real client and server are), over TCP loopback; throughput = bytes delivered (and, for the
//     channel, authenticated) at the receiver per second; beside Node TLS 1.3 run the same way, and
//     compared with raw seal-only on one core (the per-end AEAD work).
// Every row is bounded: a watchdog thread kills the run, naming the row, if one overruns its limit (even
// if this thread is stuck inside native code).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as tlsCreateServer } from 'node:tls';
import { Worker } from 'node:worker_threads';
import { toHex } from '../dist/bytes.js';
import { acceptChannel, connectChannel } from '../dist/channel/channel.js';
import { backend } from '../dist/crypto/node.js';
import { evpStatus } from '../dist/crypto/node-evp.js';
import { simulatorProvider } from '../dist/runtime/providers/sim.js';
import { simulatorAnchor } from '../dist/runtime/sim/store.js';
import { issueCertificate } from '../dist/runtime/sim/x509.js';
import { connectTcp, listenTcp } from '../dist/runtime/tcp.js';
import { loadPolicy } from '../dist/verify.js';
import { memoryLinkPair, rawEvpSealOpen, rawSealOpen } from './channel-lib.mjs';

const SECONDS = Number(process.argv[2] ?? process.env.BENCH_SECONDS ?? 3);
const MESSAGE = 64 * 1024;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DIST = new URL('../dist/', import.meta.url).href;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The watchdog runs in its own thread, so it fires even when this thread is blocked: the deadline and the
// row's name are shared memory, not messages.
const ROW_LIMIT_MS = (SECONDS * 3 + 60) * 1000;
const watch = new Float64Array(new SharedArrayBuffer(8));
const watchName = new Uint8Array(new SharedArrayBuffer(512));
const watchdog = new Worker(
  `const { workerData } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const watch = new Float64Array(workerData.watch);
const name = new Uint8Array(workerData.name);
setInterval(() => {
  if (watch[0] > 0 && Date.now() > watch[0]) {
    const row = Buffer.from(name).toString('utf8').replace(/\\0+$/, '');
    writeSync(2, '\\nWATCHDOG: row "' + row + '" overran its limit; killing the run\\n');
    process.kill(process.pid, 'SIGKILL');
  }
}, 250);`,
  { eval: true, workerData: { watch: watch.buffer, name: watchName.buffer } },
);
watchdog.unref();
function arm(row, limitMs = ROW_LIMIT_MS) {
  watchName.fill(0);
  watchName.set(new TextEncoder().encode(row).subarray(0, watchName.length));
  watch[0] = Date.now() + limitMs;
}
// A worker that fails or exits early makes every wait on it reject instead of hanging.
function watchWorker(worker, what) {
  const failed = new Promise((_, reject) => {
    worker.once('error', (error) => reject(new Error(`${what}: worker failed: ${error.message}`)));
    worker.once('exit', (code) => reject(new Error(`${what}: worker exited (code ${code})`)));
  });
  failed.catch(() => {});
  const within = (promise, ms, step) =>
    Promise.race([
      promise,
      failed,
      sleep(ms).then(() => {
        throw new Error(`${what}: ${step} did not finish within ${ms} ms`);
      }),
    ]);
  return { failed, within };
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
  arm(`the row after "${name}"`);
  console.log(`${name.padEnd(78)} ${value.toFixed(value >= 100 ? 0 : 1).padStart(8)} ${unit}`);
};

console.log(
  `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${SECONDS}s per row`,
);
{
  const status = evpStatus();
  console.log(`crypto backend: ${backend.name}${status.loaded ? '' : ` (${status.reason})`}`);
}
arm('the first row');

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
  const [clientLink, serverLink] = memoryLinkPair();
  const server = acceptChannel(serverLink, { staticKeyPair: serverKey, ...serverOptions });
  const client = await connectChannel(clientLink, clientOptions);
  await server;
  client.close();
}

// The X25519 floor under an XX handshake, on the crypto backend in use: the key generations and DH calls
// the channel itself makes, each DH on a fresh copy of the peer's key (as received off the wire). Each side
// generates an ephemeral key and does 3 DH (ee, es, se); the client also generates its static key unless
// one is given (veritee's default: a fresh one per connection, so connections are unlinkable).
const peerPublic = backend.x25519Generate().publicKey;
const givenStatic = backend.x25519Generate();
function serverX25519() {
  const e = backend.x25519GenerateSecret();
  e.agree(peerPublic.slice()); // ee
  backend.x25519(givenStatic.privateKey, peerPublic.slice()); // es: the server's static key
  e.agree(peerPublic.slice()); // se
  e.erase();
}
function clientX25519(generateStatic) {
  const e = backend.x25519GenerateSecret();
  e.agree(peerPublic.slice()); // ee
  e.agree(peerPublic.slice()); // es
  if (generateStatic) {
    const s = backend.x25519GenerateSecret();
    s.agree(peerPublic.slice()); // se
    s.erase();
  } else {
    backend.x25519(givenStatic.privateKey, peerPublic.slice()); // se
  }
  e.erase();
}
log(
  `floor: X25519 work of one XX handshake, both sides (3 keygen, 6 DH; ${backend.name})`,
  await rate(() => {
    serverX25519();
    clientX25519(true);
  }),
  'handshakes/s',
);
log(
  'floor: the same with the client static key given (2 keygen, 6 DH)',
  await rate(() => {
    serverX25519();
    clientX25519(false);
  }),
  'handshakes/s',
);
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
// The server's half alone: many handshakes advanced turn by turn over held links, only the server's turns
// timed (its Noise work, payloads and binding; no I/O, no client work).
async function serverHalfInMemory(seconds) {
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  let timed = 0;
  let count = 0;
  const until = performance.now() + seconds * 1000;
  for (let round = 0; performance.now() < until || round < 5; round++) {
    const pairs = Array.from({ length: 100 }, () => memoryLinkPair({ hold: true }));
    const clients = pairs.map(([clientLink]) => connectChannel(clientLink, { verifier: stubVerifier }));
    await tick();
    let start = performance.now();
    const servers = pairs.map(([, serverLink]) =>
      acceptChannel(serverLink, { staticKeyPair: serverKey, evidence: stubSource }),
    );
    for (const pair of pairs) pair.flushToSecond();
    await tick();
    const answer = performance.now() - start;
    for (const pair of pairs) pair.flushToFirst();
    await Promise.all(clients);
    start = performance.now();
    for (const pair of pairs) pair.flushToSecond();
    await Promise.all(servers);
    if (round >= 5) {
      timed += answer + performance.now() - start;
      count += pairs.length;
    }
  }
  return (count * 1000) / timed;
}
log(
  "  the server's half alone (client work untimed): one server core, no I/O",
  await serverHalfInMemory(SECONDS),
  'handshakes/s',
);
const clientKey = backend.x25519Generate();
log(
  '  the same with the client static key given (no client key generation)',
  await rate(() =>
    handshakeInMemory({ evidence: stubSource }, { verifier: stubVerifier, staticKeyPair: clientKey }),
  ),
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

// --- handshakes one server core completes ----------------------------------------------------------
// The operator's question: how many handshakes does one server core complete per second? Clients must
// run somewhere, and on this 2-vCPU machine two busy threads slow each other down (an X25519 DH takes
// 34 µs alone and 54 µs with the other vCPU busy), so a server measured while its clients run beside it
// is charged for that contention. Here the clients (a worker thread) and the server (this thread) take
// turns and never run at once: the clients open N connections and send their first flight, then block;
// the server answers every one (accept, message 1 → message 2) and blocks; the clients finish their
// handshakes and close; the server completes each handshake and its close. Only the server's turns are
// timed (its own work, including its TCP system calls); the first WARM rounds are not counted (the JIT
// compiles in the background during them). The rows (veritee, Node's TLS 1.3 server, veritee with the
// simulator) take rounds in turn in one run, so a shared host's drifting speed hits them alike; each row's
// figure is the median of its rounds, and the veritee/TLS ratio the median of adjacent rounds' ratios.
const PHASED_WARM = 10; // rounds per row
const PHASED_ROUNDS = PHASED_WARM + 10 * ROUNDS;
const PHASED_N = 100;
const PHASED_CLIENT = `
const { workerData } = require('node:worker_threads');
const { rows, dist, n, rounds, turn } = workerData;
const tick = () => new Promise((resolve) => setImmediate(resolve));
// Hands the turn to the server and sleeps until it hands it back.
const serverTurn = () => {
  Atomics.store(turn, 0, 1);
  Atomics.notify(turn, 0);
  if (Atomics.wait(turn, 0, 1, 60_000) === 'timed-out') throw new Error('server turn timed out');
};
async function opener({ kind, port, simDir }) {
  if (kind === 'tls') {
    const tls = require('node:tls');
    return (sent) => new Promise((resolve, reject) => {
      const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, minVersion: 'TLSv1.3' });
      socket.once('connect', sent);
      socket.once('secureConnect', () => { socket.end(); resolve(); });
      socket.once('error', reject);
    });
  }
  const { connectChannel } = await import(dist + 'channel/channel.js');
  const { connectTcp } = await import(dist + 'runtime/tcp.js');
  const { toHex } = await import(dist + 'bytes.js');
  let options = {
    verifier: async (e) => ({ verdict: 'affirming', reportData: toHex(e), errors: [], checks: [] }),
  };
  if (simDir !== undefined) {
    const { simulatorAnchor } = await import(dist + 'runtime/sim/store.js');
    const { loadPolicy } = await import(dist + 'verify.js');
    options = { simulatorRoots: [await simulatorAnchor(simDir)], policy: loadPolicy({ platforms: ['sim'] }) };
  }
  return async (sent) => {
    const handshake = connectChannel(await connectTcp('127.0.0.1', port), options);
    sent(); // message 1 is written synchronously by connectChannel
    (await handshake).close();
  };
}
(async () => {
  const openers = [];
  for (const row of rows) openers.push(await opener(row));
  for (let round = 0; round < rounds * rows.length; round++) {
    const open = openers[round % rows.length];
    let sent = 0;
    const all = Promise.all(Array.from({ length: n }, () => open(() => sent++)));
    while (sent < n) await tick();
    for (let i = 0; i < 5; i++) await tick();
    serverTurn(); // the server answers the n first flights
    await all; // the clients verify, finish and close
    for (let i = 0; i < 5; i++) await tick();
    serverTurn(); // the server completes the n handshakes and closes
  }
  Atomics.store(turn, 0, 2);
  Atomics.notify(turn, 0);
})().catch((error) => {
  Atomics.store(turn, 0, 3);
  Atomics.notify(turn, 0);
  throw error;
});
`;

// rows: [{ kind: 'noise' | 'tls', listen(track), simDir? }]; returns each row's per-round rates.
async function serverCoreAlone(rows) {
  // Server-side activity, to tell when a turn's work is done: nothing changed for a few loop turns.
  const seen = { sockets: 0, closed: 0, bytes: 0 };
  const track = (socket) => {
    seen.sockets++;
    socket.on('close', () => {
      seen.closed++;
      seen.bytes += socket.bytesRead + socket.bytesWritten;
    });
  };
  const servers = [];
  for (const row of rows) servers.push(await row.listen(track));
  const turn = new Int32Array(new SharedArrayBuffer(4)); // 0 clients, 1 server, 2 done, 3 client failed
  const worker = new Worker(PHASED_CLIENT, {
    eval: true,
    workerData: {
      rows: rows.map((row, i) => ({ kind: row.kind, port: servers[i].address().port, simDir: row.simDir })),
      dist: DIST,
      n: PHASED_N,
      rounds: PHASED_ROUNDS,
      turn,
    },
  });
  const level = () => `${seen.sockets} ${seen.closed} ${seen.bytes}`;
  const settle = async () => {
    let last = '';
    for (let quiet = 0; quiet < 4; ) {
      await new Promise((resolve) => setImmediate(resolve));
      const now = level();
      quiet = now === last ? quiet + 1 : 0;
      last = now;
    }
  };
  const rates = rows.map(() => []);
  let roundMs = 0;
  for (let turns = 0; ; turns++) {
    if (Atomics.wait(turn, 0, 0, 60_000) === 'timed-out') throw new Error('server core: the clients stalled');
    const state = Atomics.load(turn, 0);
    if (state === 3) throw new Error('server core: the client worker failed');
    if (state === 2) break;
    const start = performance.now();
    await settle();
    roundMs += performance.now() - start;
    const round = Math.floor(turns / 2);
    if (turns % 2 === 1) {
      if (round >= PHASED_WARM * rows.length) rates[round % rows.length].push((PHASED_N * 1000) / roundMs);
      roundMs = 0;
    }
    Atomics.store(turn, 0, 0);
    Atomics.notify(turn, 0);
  }
  await worker.terminate();
  for (const server of servers) server.close();
  const expected = PHASED_N * PHASED_ROUNDS * rows.length;
  if (seen.closed !== expected)
    throw new Error(`server core: ${seen.closed} of ${expected} connections completed`);
  return rates;
}

const noiseServer = (evidence) => (track) =>
  listenTcp(0, '127.0.0.1', async (link, socket) => {
    track(socket);
    try {
      const channel = await acceptChannel(link, { staticKeyPair: serverKey, evidence });
      while ((await channel.receiveParts()) !== undefined);
      channel.close();
    } catch {}
  });
const tlsServer = (track) => {
  const { key, cert } = tlsPair();
  const server = tlsCreateServer({ key, cert, minVersion: 'TLSv1.3' }, (socket) => {
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('end', () => socket.end());
  });
  server.on('connection', track);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
};
{
  arm('server core alone', 10 * 60_000);
  const rows = [
    ['noise', 'veritee channel, no evidence verification (stub evidence)', noiseServer(stubSource)],
    ['tls', 'Node TLS 1.3 (X25519 + ECDSA P-256 certificate, full handshakes)', tlsServer],
    [
      'noise',
      'veritee channel, simulator evidence (server signs one document per handshake)',
      noiseServer(sim),
      simDir,
    ],
  ];
  const rates = await serverCoreAlone(rows.map(([kind, , listen, dir]) => ({ kind, listen, simDir: dir })));
  console.log(
    `server core alone over TCP: ${PHASED_ROUNDS - PHASED_WARM} rounds of ${PHASED_N} handshakes per row, rows in turn; median of rounds:`,
  );
  for (const [i, [, name]] of rows.entries()) log(`  ${name}`, median(rates[i]), 'handshakes/s');
  const ratio = median(rates[0].map((rate, i) => rate / rates[1][i]));
  console.log(`  veritee / Node TLS 1.3, median of adjacent rounds' ratios: ${ratio.toFixed(2)}`);
}
log(
  `floor: X25519 work of the server half of one XX handshake (1 keygen, 3 DH; ${backend.name})`,
  await rate(serverX25519),
  'handshakes/s',
);

// --- bulk -------------------------------------------------------------------------------------------
const payload = randomBytes(MESSAGE);

// The channel's shape: 64 messages of 64 KiB, then a one-byte marker the sink answers (bounded buffering).
// Warmed up like the TLS row (8 batches before the clock starts: the connection's buffers grow and the
// JIT settles in them; without it the channel's 0.4 s rows measured its first batches too).
async function bulkOver(client, seconds) {
  const batch = async () => {
    for (let i = 0; i < 64; i++) client.send(payload);
    client.send(new Uint8Array(1));
    await client.receive();
  };
  for (let round = 0; round < 8; round++) await batch();
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    await batch();
    sent += 64 * MESSAGE;
  }
  return sent / 1e6 / ((performance.now() - start) / 1000);
}

// The receiving application takes each message as its authenticated pieces (receiveParts), as a
// consumer that streams data on does; the in-memory section below also measures receive(), which joins.
async function sinkChannel(channel) {
  for (;;) {
    const parts = await channel.receiveParts();
    if (parts === undefined) break;
    if (parts.length === 1 && parts[0].length === 1) channel.send('k');
  }
  channel.close();
}

// Both ends in this process over an in-memory link, against raw node:crypto on the same core. Each round
// runs every row for `sliceMs`, in rotating order; a slice is long enough to pay for its own garbage
// collection (64 KiB buffers), and the rotation spreads a shared host's drifting speed over the rows.
// Results: median speeds, and medians of per-round ratios to raw (the first round warms up, not counted).
async function bulkInMemory(rounds, sliceMs) {
  const [clientLink, serverLink] = memoryLinkPair();
  const serverSide = acceptChannel(serverLink, { staticKeyPair: serverKey, evidence: stubSource });
  const client = await connectChannel(clientLink, { verifier: stubVerifier });
  const server = await serverSide;
  const batch = 16;
  const channelBatch = async (receive) => {
    for (let i = 0; i < batch; i++) client.send(payload);
    for (let i = 0; i < batch; i++) await receive();
  };
  const rows = {
    raw: () => rawAeadSlice([payload], batch),
    records: () => rawAeadSlice(noiseRecords, batch),
    ...(rawEvpSealOpen === undefined
      ? {}
      : {
          rawEvp: () => rawAeadSlice([payload], batch, rawEvpSealOpen),
          recordsEvp: () => rawAeadSlice(noiseRecords, batch, rawEvpSealOpen),
        }),
    pieces: () => channelBatch(() => server.receiveParts()),
    joined: () => channelBatch(() => server.receive()),
  };
  const speeds = Object.fromEntries(Object.keys(rows).map((key) => [key, []]));
  const order = Object.keys(rows);
  for (let round = 0; round <= rounds; round++) {
    for (const key of order) {
      let batches = 0;
      const start = performance.now();
      while (performance.now() - start < sliceMs) {
        await rows[key]();
        batches++;
      }
      if (round > 0)
        speeds[key].push((batches * batch * MESSAGE) / 1e6 / ((performance.now() - start) / 1000));
    }
    order.push(order.shift());
  }
  client.close();
  return Object.fromEntries(
    Object.entries(speeds).map(([key, values]) => [
      key,
      {
        speed: median(values),
        ratio: median(values.map((value, i) => value / speeds.raw[i])),
        ratioEvp: speeds.rawEvp && median(values.map((value, i) => value / speeds.rawEvp[i])),
      },
    ]),
  );
}

async function bulkChannelTcp(seconds) {
  const sink = await listenTcp(0, '127.0.0.1', async (link) => {
    await sinkChannel(await acceptChannel(link, { staticKeyPair: serverKey, evidence: stubSource }));
  });
  const channel = await connectChannel(await connectTcp('127.0.0.1', sink.address().port), {
    verifier: stubVerifier,
  });
  const mbps = await bulkOver(channel, seconds);
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

// Deployment-shaped bulk: the sender in a worker thread (its own core), the receiver in this thread, over
// TCP loopback. The sender writes 64 KiB messages in batches of 16, each followed by a 1-byte marker the
// receiver acknowledges, with at most 4 batches unacknowledged (bounded buffering, both ends busy at once).
// Throughput = bytes of 64 KiB messages the receiver got (for the channel: delivered only after their
// records authenticated) per second of the measured window.
const SENDER_WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { kind, port, dist, size, ciphersuites } = workerData;
const BATCH = 16;
const WINDOW = 4;
let stop = false;
let wake = () => {};
parentPort.on('message', () => { stop = true; wake(); });
const waitForAck = () => new Promise((resolve) => { wake = resolve; });
(async () => {
  const payload = require('node:crypto').randomBytes(size);
  let batches = 0;
  let acked = 0;
  if (kind === 'tls') {
    const tls = require('node:tls');
    const socket = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ciphersuites });
    await new Promise((resolve, reject) => { socket.once('secureConnect', resolve); socket.once('error', reject); });
    socket.on('error', () => {});
    socket.on('data', (chunk) => { acked += chunk.length; wake(); });
    while (!stop) {
      for (let i = 0; i < BATCH; i++) socket.write(payload);
      socket.write('m');
      batches++;
      while (!stop && batches - acked >= WINDOW) await waitForAck();
    }
    socket.destroy();
  } else {
    const { connectChannel } = await import(dist + 'channel/channel.js');
    const { connectTcp } = await import(dist + 'runtime/tcp.js');
    const { toHex } = await import(dist + 'bytes.js');
    const channel = await connectChannel(await connectTcp('127.0.0.1', port), {
      verifier: async (e) => ({ verdict: 'affirming', reportData: toHex(e), errors: [], checks: [] }),
    });
    (async () => { for await (const _ of channel) { acked++; wake(); } })().catch(() => {});
    const marker = new Uint8Array(1);
    while (!stop) {
      for (let i = 0; i < BATCH; i++) channel.send(payload);
      channel.send(marker);
      batches++;
      while (!stop && batches - acked >= WINDOW) await waitForAck();
    }
    channel.close();
  }
  parentPort.postMessage('done');
})().catch((error) => { throw error; });
`;

async function bulkTwoThreads(kind, seconds, ciphersuites) {
  const received = { bytes: 0 };
  // The receiving sockets are destroyed when the row ends: data still in flight would otherwise be read
  // and decrypted on this thread during the next rows (it slowed the raw rows after them up to 4×).
  const receiving = new Set();
  const track = (socket) => {
    receiving.add(socket);
    socket.once('close', () => receiving.delete(socket));
  };
  let server;
  if (kind === 'tls') {
    const { key, cert } = tlsPair();
    server = tlsCreateServer({ key, cert, minVersion: 'TLSv1.3', ciphersuites }, (socket) => {
      track(socket);
      socket.on('error', () => {});
      let pending = 0; // bytes of the current batch: 16 messages and the 1-byte marker
      socket.on('data', (chunk) => {
        received.bytes += chunk.length;
        pending += chunk.length;
        while (pending >= 16 * MESSAGE + 1) {
          pending -= 16 * MESSAGE + 1;
          received.bytes -= 1;
          socket.write('k');
        }
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  } else {
    server = await listenTcp(0, '127.0.0.1', async (link, socket) => {
      track(socket);
      try {
        const channel = await acceptChannel(link, { staticKeyPair: serverKey, evidence: stubSource });
        for (;;) {
          const parts = await channel.receiveParts();
          if (parts === undefined) break;
          let length = 0;
          for (const part of parts) length += part.length;
          if (length === 1) channel.send('k');
          else received.bytes += length;
        }
        channel.close();
      } catch {}
    });
  }
  const worker = new Worker(SENDER_WORKER, {
    eval: true,
    workerData: { kind, port: server.address().port, dist: DIST, size: MESSAGE, ciphersuites },
  });
  const { within } = watchWorker(worker, `two-thread bulk ${kind}`);
  await within(sleep(500), 1500, 'warm-up');
  const bytes0 = received.bytes;
  const elu0 = performance.eventLoopUtilization();
  const start = performance.now();
  await within(sleep(seconds * 1000), seconds * 1000 + 1000, 'the measurement');
  const mbps = (received.bytes - bytes0) / 1e6 / ((performance.now() - start) / 1000);
  receiverBusy[kind === 'tls' ? ciphersuites : kind].push(performance.eventLoopUtilization(elu0).utilization);
  worker.postMessage('stop');
  await within(new Promise((resolve) => worker.once('message', resolve)), 20_000, 'stopping the sender');
  await worker.terminate();
  for (const socket of receiving) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  return mbps;
}
const receiverBusy = { noise: [], TLS_CHACHA20_POLY1305_SHA256: [], TLS_AES_128_GCM_SHA256: [] };

// Raw node:crypto ChaCha20-Poly1305 seal + open of `bodies`, `count` times.
const rawKey = randomBytes(32);
const rawNonce = Buffer.alloc(12);
function rawAeadSlice(bodies, count, sealOpen = rawSealOpen) {
  for (let i = 0; i < count; i++) for (const body of bodies) sealOpen(rawKey, rawNonce, body);
}

// Raw node:crypto ChaCha20-Poly1305 over `bodies` (one cipher object per message, as node:crypto needs).
function rawAead(seconds, bodies, open) {
  const key = randomBytes(32);
  const nonce = Buffer.alloc(12);
  const start = performance.now();
  let bytes = 0;
  let counter = 0;
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < 16; i++) {
      for (const body of bodies) {
        nonce.writeUInt32LE(counter++, 4);
        rawSealOpen(key, nonce, body, open);
      }
      bytes += MESSAGE;
    }
  }
  return bytes / 1e6 / ((performance.now() - start) / 1000);
}

const { MAX_RECORD_BODY } = await import('../dist/channel/records.js');
const noiseRecords = [payload.subarray(0, MAX_RECORD_BODY), payload.subarray(MAX_RECORD_BODY)];
{
  arm('bulk in memory', (ROUNDS * 2 + 1) * 4 * 500 + 60_000);
  const results = await bulkInMemory(ROUNDS * 2, 500);
  console.log(
    `bulk, one core, in memory: ${ROUNDS * 2} rounds of 0.5 s per row, rotating; median speed, median of per-round ratios:`,
  );
  const rows = [
    ['raw', 'raw node:crypto ChaCha20-Poly1305 seal + open, 64 KiB (both ends, one core)'],
    ['records', 'raw seal + open of the 2 Noise records of 64 KiB (65,518 + 18 bytes)'],
    ['rawEvp', 'raw veritee-evp ChaCha20-Poly1305 seal + open, 64 KiB (fresh output buffers)'],
    ['recordsEvp', 'raw veritee-evp seal + open of the 2 Noise records of 64 KiB'],
    ['pieces', `veritee channel (${backend.name}), 64 KiB, received as pieces (receiveParts)`],
    ['joined', `veritee channel (${backend.name}), 64 KiB, received joined (receive)`],
  ];
  const percent = (value) => `${(100 * value).toFixed(0)}%`.padStart(5);
  for (const [key, name] of rows) {
    if (results[key] === undefined) continue;
    const { speed, ratio, ratioEvp } = results[key];
    const ofEvp = ratioEvp === undefined ? '' : `, ${percent(ratioEvp)} of raw veritee-evp`;
    log(`  ${name}`, speed, `MB/s  ${percent(ratio)} of raw node:crypto${ofEvp}`);
  }
}

const bulkRows = {
  tcp: ['bulk, veritee channel over TCP loopback, 64 KiB messages (ChaCha20-Poly1305)', bulkChannelTcp],
  tlsChacha: [
    'bulk, Node TLS 1.3 over TCP loopback, 64 KiB writes, TLS_CHACHA20_POLY1305_SHA256',
    (seconds) => bulkTls(seconds, 'TLS_CHACHA20_POLY1305_SHA256'),
  ],
  tlsAes: [
    'bulk, Node TLS 1.3 over TCP loopback, 64 KiB writes, TLS_AES_128_GCM_SHA256',
    (seconds) => bulkTls(seconds, 'TLS_AES_128_GCM_SHA256'),
  ],
  tcp2: [
    'bulk, two threads (sender worker, receiver here), veritee channel over TCP, 64 KiB messages',
    (seconds) => bulkTwoThreads('noise', seconds),
  ],
  tls2Chacha: [
    'bulk, two threads, Node TLS 1.3 over TCP, 64 KiB writes, TLS_CHACHA20_POLY1305_SHA256',
    (seconds) => bulkTwoThreads('tls', seconds, 'TLS_CHACHA20_POLY1305_SHA256'),
  ],
  tls2Aes: [
    'bulk, two threads, Node TLS 1.3 over TCP, 64 KiB writes, TLS_AES_128_GCM_SHA256',
    (seconds) => bulkTwoThreads('tls', seconds, 'TLS_AES_128_GCM_SHA256'),
  ],
  seal: [
    'raw node:crypto ChaCha20-Poly1305, 64 KiB, seal only (one core: the per-end work)',
    (seconds) => rawAead(seconds, [payload], false),
  ],
  sealOpen: [
    'raw node:crypto ChaCha20-Poly1305, 64 KiB, seal + open (both ends, one core)',
    (seconds) => rawAead(seconds, [payload], true),
  ],
};
// Interleave the rows over ROUNDS rounds so drift on a shared machine hits every row alike.
const bulk = Object.fromEntries(Object.keys(bulkRows).map((key) => [key, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (const [key, [name, run]] of Object.entries(bulkRows)) {
    arm(`bulk, round ${round + 1}: ${name}`);
    bulk[key].push(await run(SECONDS / ROUNDS));
  }
}
console.log(
  'bulk: one-process rows seal and open every byte on one core; two-thread rows run the sender in a worker\n' +
    'and the receiver here (each end on its own core) and count bytes delivered (for the channel: after\n' +
    'authentication) at the receiver per second; medians over rounds:',
);
for (const [key, [name]] of Object.entries(bulkRows)) log(name, median(bulk[key]), 'MB/s');
const ratio = (row, floor) => median(bulk[row].map((value, round) => value / bulk[floor][round]));
console.log('\nmedian per-round ratios to raw 64 KiB seal+open:');
for (const row of ['tcp', 'tlsChacha', 'tlsAes']) {
  console.log(`  ${row.padEnd(10)} ${(100 * ratio(row, 'sealOpen')).toFixed(0)}%`);
}
console.log(
  '\ntwo threads (each end on its own core), median per-round ratios to raw 64 KiB seal only on one core:',
);
for (const [row, busy] of [
  ['tcp2', 'noise'],
  ['tls2Chacha', 'TLS_CHACHA20_POLY1305_SHA256'],
  ['tls2Aes', 'TLS_AES_128_GCM_SHA256'],
]) {
  console.log(
    `  ${row.padEnd(10)} ${(100 * ratio(row, 'seal')).toFixed(0)}%   (receiver thread event-loop utilization ${median(receiverBusy[busy]).toFixed(2)})`,
  );
}
tcpServer.close();
console.log(
  `load at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
process.exit(0);
