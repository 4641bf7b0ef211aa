/**
 * Merkle tree hashing and proofs of RFC 9162 (Certificate Transparency v2) §2.1, SHA-256:
 * - leaf hash `SHA-256(0x00 ‖ entry)`, node hash `SHA-256(0x01 ‖ left ‖ right)`, empty tree `SHA-256("")`
 *   (§2.1.1); a tree of n > 1 leaves splits at k, the largest power of two smaller than n;
 * - inclusion proofs: generation `PATH` (§2.1.3.1), verification (§2.1.3.2);
 * - consistency proofs: generation `PROOF`/`SUBPROOF` (§2.1.4.1), verification (§2.1.4.2).
 *
 * Tree sizes and indices are JS numbers (safe integers); the bit steps of the RFC use arithmetic
 * (`% 2`, `/ 2`) so sizes above 2^31 work. Verification is total: wrong sizes, wrong lengths and
 * wrong hashes all return false, never throw.
 *
 * Deliberate choices where RFC 9162 is silent (see test/vectors/measure/merkle):
 * - every hash (root, leaf, proof element) must be 32 bytes, also when sizes are equal;
 * - consistency from size 0 is refused (RFC 9162 defines proofs for 0 < m ≤ n), as transparency-dev/merkle does.
 */
import { backend } from '#crypto';
import { equalBytes } from '../../bytes.js';

export const HASH_SIZE = 32;
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

export function leafHash(entry: Uint8Array): Uint8Array {
  return backend.hashParts('SHA-256', [LEAF_PREFIX, entry]);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return backend.hashParts('SHA-256', [NODE_PREFIX, left, right]);
}

export function emptyRoot(): Uint8Array {
  return backend.hash('SHA-256', new Uint8Array(0));
}

/** The largest power of two strictly smaller than n (n ≥ 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** Supplies MTH(D[start:end]) for 0 ≤ start < end ≤ size (a store may answer from cached subtrees). */
export type SubtreeHash = (start: number, end: number) => Uint8Array;

/** MTH over in-memory leaf hashes (reference implementation; O(n)). */
export function rootOfLeafHashes(hashes: readonly Uint8Array[], start = 0, end = hashes.length): Uint8Array {
  const n = end - start;
  if (n === 0) return emptyRoot();
  if (n === 1) return hashes[start]!;
  const k = splitPoint(n);
  return nodeHash(rootOfLeafHashes(hashes, start, start + k), rootOfLeafHashes(hashes, start + k, end));
}

/** §2.1.3.1 PATH(m, D[start:end]): the audit path of leaf `index` in a tree of `size`. */
export function inclusionPath(index: number, size: number, subtree: SubtreeHash): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (m: number, start: number, end: number): void => {
    const n = end - start;
    if (n <= 1) return;
    const k = splitPoint(n);
    if (m < k) {
      walk(m, start, start + k);
      out.push(subtree(start + k, end));
    } else {
      walk(m - k, start + k, end);
      out.push(subtree(start, start + k));
    }
  };
  walk(index, 0, size);
  return out;
}

/** §2.1.4.1 PROOF(m, D[n]): the consistency proof from size `m` to size `n` (0 < m ≤ n). */
export function consistencyPath(m: number, n: number, subtree: SubtreeHash): Uint8Array[] {
  const out: Uint8Array[] = [];
  const sub = (m: number, start: number, end: number, complete: boolean): void => {
    const size = end - start;
    if (m === size) {
      if (!complete) out.push(subtree(start, end));
      return;
    }
    const k = splitPoint(size);
    if (m <= k) {
      sub(m, start, start + k, complete);
      out.push(subtree(start + k, end));
    } else {
      sub(m - k, start + k, end, false);
      out.push(subtree(start, start + k));
    }
  };
  if (m > 0 && m <= n) sub(m, 0, n, true);
  return out;
}

function allHashes(values: readonly Uint8Array[]): boolean {
  return values.every((value) => value instanceof Uint8Array && value.length === HASH_SIZE);
}

function validSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** §2.1.3.2: true when `path` proves `leaf` (a leaf hash) at `index` in the tree of `size` with `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  path: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!validSize(index) || !validSize(size) || index >= size) return false;
  if (!allHashes([leaf, root, ...path])) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, root);
}

/** §2.1.4.2: true when `path` proves the tree of size `first` with `firstRoot` is a prefix of the tree of `second`. */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  path: readonly Uint8Array[],
): boolean {
  if (!validSize(first) || !validSize(second) || first === 0 || first > second) return false;
  if (!allHashes([firstRoot, secondRoot, ...path])) return false;
  if (first === second) return path.length === 0 && equalBytes(firstRoot, secondRoot);
  if (path.length === 0) return false;
  const proof = isPowerOfTwo(first) ? [firstRoot, ...path] : [...path];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = proof[0]!;
  let sr = proof[0]!;
  for (const c of proof.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}
