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
