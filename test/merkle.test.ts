/**
 * RFC 6962 / RFC 9162 Merkle hashing and proofs against transparency-dev/merkle's reference tree and its
 * 196 golden proof probes; proof generation of the log checked against the reference proofs and, for
 * every (index, size) and (m, n) up to 40 leaves, against our own verifier.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromBase64, fromHex, toHex } from '../src/bytes.js';
import { TransparencyLog } from '../src/measure/translog/log.js';
import {
  emptyRoot,
  leafHash,
  nodeHash,
  rootOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from '../src/measure/translog/merkle.js';
import { MemoryLogStore } from '../src/measure/translog/store.js';
import { privateJwk } from './helpers/keys.js';

const DIR = join(import.meta.dirname, 'vectors', 'measure', 'merkle');
const reference = JSON.parse(readFileSync(join(DIR, 'reference-tree.json'), 'utf8'));
const leaves: Uint8Array[] = reference.leaf_inputs_hex.map((hex: string) => fromHex(hex));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}
const b64 = (value: string | null | undefined) => (value == null ? new Uint8Array(0) : fromBase64(value));

/** Probes where our documented choices differ from the library's wantErr (see merkle.ts). */
const DELIBERATE = new Set([
  // Equal sizes with an empty proof and equal 12-byte "roots": we require 32-byte hashes.
  'consistency/additional/sizes-are-equal-one-and-proof-is-empty.json',
]);

function newLog() {
  return new TransparencyLog(new MemoryLogStore(), {
    origin: 'test.example/log',
    privateJwk: privateJwk('ed25519'),
    now: () => 1,
  });
}

describe('RFC 9162 hashing', () => {
  it('matches the known answers', () => {
    expect(toHex(emptyRoot())).toBe(reference.hasher[0].hash);
    expect(toHex(leafHash(new Uint8Array(0)))).toBe(reference.hasher[1].hash);
    expect(toHex(leafHash(fromHex(reference.hasher[2].leaf_input_hex)))).toBe(reference.hasher[2].hash);
    expect(
      toHex(nodeHash(fromHex(reference.hasher[3].left_hex), fromHex(reference.hasher[3].right_hex))),
    ).toBe(reference.hasher[3].hash);
    expect(leaves.map((leaf) => toHex(leafHash(leaf)))).toEqual(reference.leaf_hashes);
  });

  it('reproduces the root of every prefix of the reference tree', () => {
    const hashes = leaves.map(leafHash);
    for (let n = 0; n <= 8; n++) {
      expect(toHex(rootOfLeafHashes(hashes.slice(0, n)))).toBe(reference.root_hashes_by_tree_size.roots[n]);
    }
  });

  it('the log generates the reference inclusion and consistency proofs', () => {
    // The log refuses empty entries, so it is filled through its store from the leaf hashes directly.
    const log = newLog();
    const hashes = leaves.map(leafHash);
    hashes.forEach((hash, index) => {
      const nodes = [{ level: 0, index, hash }];
      let level = 0;
      let position = index;
      let current = hash;
      while (position % 2 === 1) {
        current = nodeHash(log.store.node(level, position - 1)!, current);
        level++;
        position = (position - 1) / 2;
        nodes.push({ level, index: position, hash: current });
      }
      log.store.append(index, leaves[index]!, nodes);
    });
    for (const proof of reference.inclusion_proofs) {
      expect(log.inclusionProof(proof.leaf_index, proof.tree_size).map(toHex)).toEqual(proof.audit_path);
      expect(toHex(log.root(proof.tree_size))).toBe(proof.root);
    }
    for (const proof of reference.consistency_proofs) {
      expect(log.consistencyProof(proof.size1, proof.size2).map(toHex)).toEqual(proof.proof);
    }
  });
});

describe('transparency-dev golden probes', () => {
  const all = files(join(DIR, 'transparency-dev'));
  it('has all 196 probes', () => expect(all).toHaveLength(196));

  for (const file of all) {
    const name = relative(join(DIR, 'transparency-dev'), file);
    const probe = JSON.parse(readFileSync(file, 'utf8'));
    const want = DELIBERATE.has(name) ? true : probe.wantErr;
    it(`${name}: ${probe.wantErr ? 'rejected' : 'accepted'}${DELIBERATE.has(name) ? ' (we reject: deliberate)' : ''}`, () => {
      const proof = (probe.proof ?? []).map(b64);
      const ok = name.startsWith('inclusion')
        ? verifyInclusion(probe.leafIdx, probe.treeSize, b64(probe.leafHash), proof, b64(probe.root))
        : verifyConsistency(probe.size1, probe.size2, b64(probe.root1), b64(probe.root2), proof);
      expect(ok).toBe(!want);
    });
  }
});

describe('proofs for every small tree', () => {
  it('every inclusion and consistency proof up to 40 leaves verifies; altered ones do not', () => {
    const log = newLog();
    const roots: Uint8Array[] = [emptyRoot()];
    for (let i = 0; i < 40; i++) {
      log.append(Uint8Array.of(i, i * 7));
      roots.push(log.root());
    }
    for (let n = 1; n <= 40; n++) {
      for (let m = 0; m < n; m++) {
        const proof = log.inclusionProof(m, n);
        const leaf = leafHash(Uint8Array.of(m, m * 7));
        expect(verifyInclusion(m, n, leaf, proof, roots[n]!)).toBe(true);
        expect(verifyInclusion(m, n, leaf, proof, roots[n - 1]!)).toBe(false);
        expect(verifyInclusion(m, n, leafHash(Uint8Array.of(m)), proof, roots[n]!)).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(m, n, leaf, proof.slice(1), roots[n]!)).toBe(false);
      }
      for (let m = 1; m <= n; m++) {
        const proof = log.consistencyProof(m, n);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, proof)).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, roots[m - 1]!, roots[n]!, proof)).toBe(false);
          expect(verifyConsistency(m, n, roots[m]!, roots[n - 1]!, proof)).toBe(false);
        }
      }
    }
  });

  it('appends are idempotent and sizes are checked', () => {
    const log = newLog();
    expect(log.append(Uint8Array.of(1)).index).toBe(0);
    expect(log.append(Uint8Array.of(2)).index).toBe(1);
    expect(log.append(Uint8Array.of(1))).toMatchObject({ index: 0, existing: true });
    expect(log.size()).toBe(2);
    expect(() => log.inclusionProof(2, 2)).toThrow(expect.objectContaining({ code: 'LOG_ENTRY_MISSING' }));
    expect(() => log.inclusionProof(0, 3)).toThrow(expect.objectContaining({ code: 'ARGUMENT_INVALID' }));
    expect(() => log.consistencyProof(0, 2)).toThrow(expect.objectContaining({ code: 'ARGUMENT_INVALID' }));
    expect(() => log.append(new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'ARGUMENT_INVALID' }),
    );
    expect(() => log.entry(5)).toThrow(expect.objectContaining({ code: 'LOG_ENTRY_MISSING' }));
  });
});
