/**
 * The transparency log end to end: SQLite storage, the HTTP handler, the client's proof checks, and
 * the `releases` policy on a real Nitro document. Negative cases from the issue: tampered records, wrong
 * signer, a log that forks (inconsistent tree heads), a record missing from the log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { utf8Encode } from '../src/bytes.js';
import {
  publicJwkOf,
  type ReleasePredicate,
  serializeEnvelope,
  signRelease,
  trustedKeyFromJwk,
} from '../src/measure/release.js';
import { logEntryOf, parseReleasesPolicy, releaseBundleToJson } from '../src/measure/releases.js';
import { type checkConsistency, LogClient } from '../src/measure/translog/client.js';
import { TransparencyLog } from '../src/measure/translog/log.js';
import { type LogStore, MemoryLogStore } from '../src/measure/translog/store.js';
import { createLogHandler } from '../src/server/translog.js';
import { SqliteLogStore } from '../src/server/translog-store.js';
import { loadPolicy, verify } from '../src/verify.js';
import { PREDICATE, privateJwk } from './helpers/keys.js';
import { genuineNitroVectors } from './helpers/vectors.js';

// biome-ignore lint/suspicious/noExplicitAny: tests edit bundle JSON freely
type Loose = Record<string, any>;

const ORIGIN = 'veritee.test/releases';
const BASE = 'http://log.test/';
const logJwk = privateJwk('ed25519');
const logKey = trustedKeyFromJwk(publicJwkOf(logJwk));

function newLog(store: LogStore = new MemoryLogStore()) {
  let clock = 1_700_000_000_000;
  return new TransparencyLog(store, { origin: ORIGIN, privateJwk: logJwk, now: () => clock++ });
}

function clientFor(log: TransparencyLog, trusted?: Parameters<typeof checkConsistency>[0]) {
  const handler = createLogHandler(log);
  return new LogClient(BASE, { key: logKey, origin: ORIGIN, fetch: handler, trusted });
}

describe('SQLite log store', () => {
  it('persists entries and subtrees, and agrees with the in-memory store', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'veritee-log-')), 'log.db');
    const memory = newLog();
    const store = new SqliteLogStore(path, ORIGIN);
    const sqlite = newLog(store);
    for (let i = 0; i < 37; i++) {
      memory.append(utf8Encode(`entry ${i}`));
      sqlite.append(utf8Encode(`entry ${i}`));
      expect(sqlite.root()).toEqual(memory.root());
    }
    expect(sqlite.append(utf8Encode('entry 3'))).toMatchObject({ index: 3, existing: true });
    const root = sqlite.root();
    const proof = sqlite.inclusionProof(5, 30);
    store.close();
    const reopened = newLog(new SqliteLogStore(path, ORIGIN));
    expect(reopened.size()).toBe(37);
    expect(reopened.root()).toEqual(root);
    expect(reopened.inclusionProof(5, 30)).toEqual(proof);
    expect(reopened.consistencyProof(10, 37)).toEqual(memory.consistencyProof(10, 37));
    expect(new TextDecoder().decode(reopened.entry(36))).toBe('entry 36');
    expect(() => new SqliteLogStore(path, 'another/log')).toThrow(
      expect.objectContaining({ code: 'ARGUMENT_INVALID' }),
    );
  });
});

describe('log HTTP endpoint and client', () => {
  it('logs a release record and proves it; the client tracks consistency', async () => {
    const log = newLog(new SqliteLogStore(':memory:', ORIGIN));
    const client = clientFor(log);
    const signer = privateJwk('p256');
    const first = await signRelease(PREDICATE, signer);
    expect(await client.submit(serializeEnvelope(first))).toBe(0);
    expect(await client.submit(serializeEnvelope(first))).toBe(0);
    await client.update();
    expect(client.trusted?.treeSize).toBe(1);
    for (let i = 0; i < 5; i++) {
      await client.submit(
        serializeEnvelope(await signRelease({ ...PREDICATE, commit: String(i).repeat(40) }, signer)),
      );
    }
    const head = await client.update();
    expect(head.treeSize).toBe(6);
    const proof = await client.prove(logEntryOf(first));
    expect(proof).toMatchObject({ index: 0, treeSize: 6 });

    const handler = createLogHandler(log);
    const entry = await (await handler(new Request(`${BASE}entries/0`))).json();
    expect(entry.index).toBe(0);
    expect(entry.entry.payloadType).toBe('application/vnd.in-toto+json');
    expect((await handler(new Request(`${BASE}entries/9`))).status).toBe(404);
    expect((await handler(new Request(`${BASE}proof/inclusion?index=x&size=1`))).status).toBe(400);
    expect((await handler(new Request(`${BASE}nowhere`))).status).toBe(404);
    expect(
      (await handler(new Request(`${BASE}entries`, { method: 'POST', body: '{"payloadType":"x"}' }))).status,
    ).toBe(400);
    expect(
      (await handler(new Request(`${BASE}entries`, { method: 'POST', body: 'x'.repeat(2 << 20) }))).status,
    ).toBe(413);
    expect((await handler(new Request(`${BASE}checkpoint`, { method: 'DELETE' }))).status).toBe(405);
  });

  it('refuses a record missing from the log (LOG_ENTRY_MISSING)', async () => {
    const log = newLog();
    const client = clientFor(log);
    await client.submit(serializeEnvelope(await signRelease(PREDICATE, privateJwk('ed25519'))));
    const absent = await signRelease({ ...PREDICATE, commit: 'c'.repeat(40) }, privateJwk('ed25519'));
    await expect(client.prove(logEntryOf(absent))).rejects.toMatchObject({ code: 'LOG_ENTRY_MISSING' });
    await expect(clientFor(newLog()).prove(logEntryOf(absent))).rejects.toMatchObject({
      code: 'LOG_ENTRY_MISSING',
    });
  });

  it('refuses a log that forks or rolls back (LOG_INCONSISTENT)', async () => {
    const honest = newLog();
    const forked = newLog();
    for (let i = 0; i < 4; i++) {
      honest.append(utf8Encode(`shared ${i}`));
      forked.append(utf8Encode(`shared ${i}`));
    }
    honest.append(utf8Encode('honest 4'));
    forked.append(utf8Encode('forked 4'));
    const seen = await clientFor(honest).update();
    // Same size, another root.
    await expect(clientFor(forked, seen).update()).rejects.toMatchObject({ code: 'LOG_INCONSISTENT' });
    // A longer fork: the consistency proof from the trusted size does not verify.
    forked.append(utf8Encode('forked 5'));
    await expect(clientFor(forked, seen).update()).rejects.toMatchObject({ code: 'LOG_INCONSISTENT' });
    // Rollback to a smaller tree.
    const smaller = newLog();
    smaller.append(utf8Encode('shared 0'));
    await expect(clientFor(smaller, seen).update()).rejects.toMatchObject({ code: 'LOG_INCONSISTENT' });
    // The honest log growing is fine.
    honest.append(utf8Encode('honest 5'));
    await expect(clientFor(honest, seen).update()).resolves.toMatchObject({ treeSize: 6 });
  });

  it('retries a request once after a network error, then fails with a typed error', async () => {
    const log = newLog();
    log.append(utf8Encode('a'));
    const handler = createLogHandler(log);
    let failures = 1;
    const flaky = async (request: Request) => {
      if (failures-- > 0) throw new TypeError('fetch failed');
      return handler(request);
    };
    await expect(
      new LogClient(BASE, { key: logKey, origin: ORIGIN, fetch: flaky }).update(),
    ).resolves.toMatchObject({ treeSize: 1 });
    const down = async () => {
      throw new TypeError('fetch failed');
    };
    await expect(
      new LogClient(BASE, { key: logKey, origin: ORIGIN, fetch: down }).update(),
    ).rejects.toMatchObject({ code: 'COLLATERAL_UNAVAILABLE' });
  });

  it('refuses tree heads by another key or for another log, and bad inclusion proofs', async () => {
    const log = newLog();
    log.append(utf8Encode('a'));
    log.append(utf8Encode('b'));
    const impostor = new TransparencyLog(log.store, { origin: ORIGIN, privateJwk: privateJwk('ed25519') });
    await expect(clientFor(impostor).update()).rejects.toMatchObject({ code: 'SIG_INVALID' });
    const handler = createLogHandler(log);
    const other = new LogClient(BASE, { key: logKey, origin: 'other/log', fetch: handler });
    await expect(other.update()).rejects.toMatchObject({ code: 'SIG_INVALID' });
    // A server that answers inclusion queries with a wrong path.
    const lying = async (request: Request) => {
      const response = await handler(request);
      if (!request.url.includes('proof/inclusion')) return response;
      const body = await response.json();
      body.hashes[0] = body.hashes[0].replace(/^./, (c: string) => (c === '0' ? '1' : '0'));
      return new Response(JSON.stringify(body), { status: 200 });
    };
    const client = new LogClient(BASE, { key: logKey, origin: ORIGIN, fetch: lying });
    await expect(client.prove(utf8Encode('a'))).rejects.toMatchObject({ code: 'LOG_PROOF_INVALID' });
  });
});

describe('policy: releases {signer, repository, log}', () => {
  const vector = genuineNitroVectors().find((v) => v.id === 'marlin-aws-2024-12-13')!;
  const pcrs = vector.expected.parsed.pcrs;
  const at = new Date(vector.expected.verification_time.unix_ms);
  const released: ReleasePredicate = {
    ...PREDICATE,
    measurements: { nitro: { pcr0: pcrs['0']!, pcr1: pcrs['1']!, pcr2: pcrs['2']! } },
  };

  async function setup() {
    const signer = privateJwk('ed25519');
    const log = newLog();
    const policy = loadPolicy({
      releases: {
        signer: publicJwkOf(signer),
        repository: PREDICATE.repository,
        log: { origin: ORIGIN, publicKey: publicJwkOf(logJwk) },
      },
    });
    const bundleOf = async (predicate: ReleasePredicate, key = signer, add = true) => {
      const envelope = await signRelease(predicate, key);
      const client = clientFor(log);
      if (add) await client.submit(serializeEnvelope(envelope));
      else log.append(utf8Encode('unrelated'));
      const treeHead = await log.treeHead();
      const entry = logEntryOf(envelope);
      const index = log.indexOf((await import('../src/measure/translog/merkle.js')).leafHash(entry)) ?? 0;
      const proof = {
        index,
        treeSize: treeHead.treeSize,
        hashes: log.inclusionProof(index, treeHead.treeSize),
      };
      return releaseBundleToJson({ envelope, proof, treeHead }) as unknown as Loose;
    };
    return { policy, bundleOf, signer, log };
  }

  const run = (policy: ReturnType<typeof loadPolicy>, releases: unknown[]) =>
    verify(vector.bytes, { at, policy, releases });

  it('accepts a logged release by the trusted signer that lists the measurements', async () => {
    const { policy, bundleOf } = await setup();
    const result = await run(policy, [await bundleOf(released)]);
    expect(result.verdict).toBe('affirming');
    expect(result.checks.find((c) => c.id === 'releases.measurements')).toMatchObject({ ok: true });
  });

  it('refuses: no bundle, other measurements, tampered record, wrong signer, other repository, missing from the log, forked heads', async () => {
    const { policy, bundleOf, log } = await setup();
    const failing = async (bundles: unknown[], id: string, code?: string) => {
      const result = await run(policy, bundles);
      expect(result.verdict).toBe('contraindicated');
      const check = result.checks.find((c) => c.id === id);
      expect(check?.ok, JSON.stringify(result.checks)).toBe(false);
      if (code !== undefined) expect(check?.detail).toContain(code);
    };
    await failing([], 'releases.measurements');
    await failing(
      [await bundleOf({ ...released, measurements: { nitro: { pcr0: '0'.repeat(96) } } })],
      'releases.measurements',
    );
    const tampered = await bundleOf(released);
    const statement = JSON.parse(Buffer.from(tampered.envelope.payload, 'base64').toString());
    statement.predicate.commit = 'f'.repeat(40);
    tampered.envelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    await failing([tampered], 'releases.record[0]', 'LOG_PROOF_INVALID');
    await failing([await bundleOf(released, privateJwk('ed25519'))], 'releases.record[0]', 'SIG_INVALID');
    await failing(
      [await bundleOf({ ...released, repository: 'https://github.com/evil/app' })],
      'releases.record[0]',
      'POLICY_VIOLATION',
    );
    await failing(
      [await bundleOf({ ...released, commit: 'e'.repeat(40) }, undefined, false)],
      'releases.record[0]',
      'LOG_PROOF_INVALID',
    );
    // A head signed by another key.
    const foreign = await bundleOf(released);
    foreign.log.treeHead.signature = foreign.log.treeHead.signature.replace(/^./, (c: string) =>
      c === 'A' ? 'B' : 'A',
    );
    await failing([foreign], 'releases.record[0]', 'SIG_INVALID');
    // Two valid heads of the same size with different roots: the log forked.
    const good = await bundleOf(released);
    const forkLog = newLog();
    for (let i = 0; i < good.log.treeHead.treeSize - 1; i++) forkLog.append(utf8Encode(`fork ${i}`));
    const envelope = (await import('../src/measure/release.js')).parseEnvelope(good.envelope);
    forkLog.append(logEntryOf(envelope));
    const forkHead = await forkLog.treeHead();
    const forkIndex = forkLog.size() - 1;
    const forkBundle = releaseBundleToJson({
      envelope,
      proof: { index: forkIndex, treeSize: forkHead.treeSize, hashes: forkLog.inclusionProof(forkIndex) },
      treeHead: forkHead,
    });
    expect(log.size()).toBe(forkLog.size());
    await failing([good, forkBundle], 'releases.log', 'LOG_INCONSISTENT');
  });

  it('validates the policy section', () => {
    const jwk = publicJwkOf(privateJwk('ed25519'));
    const good = { signer: jwk, repository: 'https://github.com/a/b', log: { origin: 'x', publicKey: jwk } };
    expect(parseReleasesPolicy(good).signers).toHaveLength(1);
    expect(() => loadPolicy({ releases: { ...good, extra: 1 } })).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
    expect(() => loadPolicy({ releases: { ...good, signer: [] } })).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
    expect(() => loadPolicy({ releases: { ...good, signer: { kty: 'EC' } } })).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
    expect(() => loadPolicy({ releases: { ...good, repository: 'github.com/a/b' } })).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
    expect(() => loadPolicy({ releases: { ...good, log: { origin: 'x' } } })).toThrow(
      expect.objectContaining({ code: 'POLICY_INVALID' }),
    );
    expect(() => loadPolicy({ release: good })).toThrow(expect.objectContaining({ code: 'POLICY_INVALID' }));
  });
});
