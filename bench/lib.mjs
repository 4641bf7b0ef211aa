// Shared helpers for the benchmarks: a fixed-duration loop and markdown output.
import { performance } from 'node:perf_hooks';

/** Runs `fn` (async) repeatedly for about `seconds`, after a warm-up; returns operations per second. */
export async function opsPerSecond(fn, { seconds = 3, warmup = 0.5 } = {}) {
  const warmEnd = performance.now() + warmup * 1000;
  let i = 0;
  while (performance.now() < warmEnd) await fn(i++);
  let count = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    for (let k = 0; k < 20; k++) await fn(count++);
  }
  return (count * 1000) / (performance.now() - start);
}

export function table(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export const fmt = (n) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));
