/** Node-only input helpers for the CLI: reading evidence, policies and keys, parsing times. */
import { readFileSync } from 'node:fs';
import { ErrorCode, VeriteeError } from '../errors.js';

/** Exit codes of every veritee command (the CLI contract). */
export const EXIT = { accepted: 0, rejected: 1, unusable: 2 } as const;

export function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path === '-' ? 0 : path));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'read error';
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `cannot read ${what} ${path === '-' ? 'from stdin' : `"${path}"`} (${reason})`,
    );
  }
}

export function readJsonFile(path: string, what: string): unknown {
  const text = new TextDecoder().decode(readInput(path, what));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `${what} "${path}" is not valid JSON`, {
      details: error instanceof Error ? error.message : undefined,
    });
  }
}

/** Parses `--at`: RFC 3339 (e.g. 2024-12-13T07:37:58Z) or Unix seconds (fractions allowed). */
export function parseTime(text: string): Date {
  if (/^\d+(\.\d+)?$/.test(text)) return new Date(Math.round(Number(text) * 1000));
  const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
  const date = new Date(text);
  if (!rfc3339.test(text) || Number.isNaN(date.getTime())) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `--at must be RFC 3339 (2024-12-13T07:37:58Z) or Unix seconds, got "${text}"`,
    );
  }
  return date;
}

const DURATION_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration such as `90s`, `15m`, `1h`, `2d` (a whole number and one unit) into milliseconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d{1,9})([smhd])$/.exec(text);
  const ms = match === null ? Number.NaN : Number(match[1]) * DURATION_UNITS[match[2]!]!;
  if (!(ms >= 1000)) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `${option} must be a duration of at least 1s such as 90s, 15m, 1h or 2d, got "${text.slice(0, 40)}"`,
    );
  }
  return ms;
}
