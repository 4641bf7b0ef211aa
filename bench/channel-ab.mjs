// A/B of TCP bulk: this dist against another build (A=<dir>/dist, e.g. an older commit built with tsc),
// interleaved rounds with ratios to raw seal+open: A=/path/dist node bench/channel-ab.mjs [rounds] [seconds]
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const MESSAGE = 65536;
const payload = randomBytes(MESSAGE);
const load = async (dir) => ({
  ch: await import(`${dir}/channel/channel.js`),
  tcp: await import(`${dir}/runtime/tcp.js`),
  be: (await import(`${dir}/crypto/node.js`)).backend,
  hex: (await import(`${dir}/bytes.js`)).toHex,
});
const A = await load(new URL(`file://${process.env.A}`).href);
const B = await load(new URL('../dist', import.meta.url).href);
async function bulkTcp(m, seconds) {
  const key = m.be.x25519Generate();
  const src = { getEvidence: async (r) => ({ evidence: r, platform: 'stub' }) };
  const ver = async (e) => ({ verdict: 'affirming', reportData: m.hex(e), errors: [], checks: [] });
  const sink = await m.tcp.listenTcp(0, '127.0.0.1', async (link) => {
    const c = await m.ch.acceptChannel(link, { staticKeyPair: key, evidence: src });
    for await (const msg of c) if (msg.length === 1) c.send('k');
    c.close();
  });
  const c = await m.ch.connectChannel(await m.tcp.connectTcp('127.0.0.1', sink.address().port), {
    verifier: ver,
  });
  const start = performance.now();
  let sent = 0;
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < 64; i++) c.send(payload);
    sent += 64 * MESSAGE;
    c.send(new Uint8Array(1));
    await c.receive();
  }
  const r = sent / 1e6 / ((performance.now() - start) / 1000);
  c.close();
  sink.close();
  return r;
}
function raw(seconds) {
  const key = randomBytes(32),
    nonce = Buffer.alloc(12);
  const start = performance.now();
  let bytes = 0,
    n = 0;
  while (performance.now() - start < seconds * 1000) {
    nonce.writeUInt32LE(n++, 4);
    const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    const s = c.update(payload);
    c.final();
    const t = c.getAuthTag();
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    d.setAuthTag(t);
    d.update(s);
    d.final();
    bytes += MESSAGE;
  }
  return bytes / 1e6 / ((performance.now() - start) / 1000);
}
const rounds = Number(process.argv[2] ?? 7),
  sec = Number(process.argv[3] ?? 1);
const res = { old: [], new: [], raw: [] };
for (let i = 0; i < rounds; i++) {
  res.old.push(await bulkTcp(A, sec));
  res.new.push(await bulkTcp(B, sec));
  res.raw.push(raw(sec));
}
const med = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
for (const k of ['old', 'new'])
  console.log(
    k,
    med(res[k]).toFixed(0),
    'MB/s',
    `${(100 * med(res[k].map((v, i) => v / res.raw[i]))).toFixed(0)}% of raw`,
    'rounds',
    res[k].map((v) => ((100 * v) / 1).toFixed(0) / 100).join(' '),
  );
console.log(
  'raw',
  med(res.raw).toFixed(0),
  'MB/s; new/old',
  med(res.new.map((v, i) => v / res.old[i])).toFixed(2),
);
process.exit(0);
