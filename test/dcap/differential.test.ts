/**
 * Differential test against Phala's dcap-qvl (pure JS, @phala/dcap-qvl) and its Rust/WASM build
 * (@phala/dcap-qvl-web) on every vector. Where they agree with veritee, status and advisories must be
 * equal. Every disagreement is listed here with its reason, and explained in docs/dcap.md ("Differential
 * findings") with the spec section; an unlisted disagreement fails the test.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as web from '@phala/dcap-qvl-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { VeriteeError } from '../../src/errors.js';
import { verifyDcapQuote } from '../../src/platforms/dcap/index.js';
import { loadVector, vectorIds } from './helpers.js';

const require = createRequire(import.meta.url);
const qvl = require('@phala/dcap-qvl') as {
  verify(quote: Uint8Array, collateral: unknown, nowSecs: number): { status: string; advisory_ids: string[] };
};

type Outcome = string; // "Status [ids…]" or "error: <code or message>"

function describeOk(status: string, ids: readonly string[]): Outcome {
  return `${status} [${[...ids].sort().join(', ')}]`;
}

async function ours(id: string): Promise<Outcome> {
  const v = loadVector(id);
  try {
    const e = await verifyDcapQuote(v.quote, { at: v.at, collateral: v.collateralJson });
    return describeOk(e.tcb!.status, e.tcb!.advisoryIds);
  } catch (error) {
    if (!(error instanceof VeriteeError)) throw error;
    return `error: ${error.code}`;
  }
}

function theirs(
  id: string,
  run: (quote: Uint8Array, collateral: unknown, now: number) => { status: string; advisory_ids: string[] },
): Outcome {
  const v = loadVector(id);
  try {
    const r = run(v.quote, v.collateralJson, Math.floor(v.at.getTime() / 1000));
    return describeOk(r.status, r.advisory_ids);
  } catch (error) {
    return `error: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** Known disagreements: what each verifier says, and the docs/dcap.md finding that explains it. */
const KNOWN: Record<string, { ours: Outcome; js: Outcome; web: Outcome; finding: string }> = {
  'sgx/crosssrc-automata-solana-sgx-v3-00A067110000-2025-06': {
    ours: 'ConfigurationAndSWHardeningNeeded [INTEL-SA-00289, INTEL-SA-00615]',
    js: 'error: Debug mode is enabled',
    web: 'error: Debug mode is enabled',
    finding: 'D3 debug enclaves are a policy decision (rejected by veritee at appraisal)',
  },
  'sgx/mobilecoin-sgx-v3-00906ED50000-2023-07': {
    ours: 'error: CRL_EXPIRED',
    js: 'SWHardeningNeeded [INTEL-SA-00334, INTEL-SA-00615]',
    web: 'error: Failed to verify certificate chain',
    finding: 'D2 stale PCK CRL accepted by dcap-qvl JS',
  },
  'tdx/crosssrc-gotdxguest-cos113-tdx-v4-00806F050000-2025-06': {
    ours: 'UpToDate []',
    js: 'OutOfDate [INTEL-SA-00960, INTEL-SA-00982, INTEL-SA-00986]',
    web: 'OutOfDate [INTEL-SA-00960, INTEL-SA-00982, INTEL-SA-00986]',
    finding: 'D1 TDX module rule',
  },
  'tdx/automata-alibaba-tdx-v5-90C06F000000-2025-06': {
    ours: 'UpToDate []',
    js: 'error: Invalid mr service td',
    web: 'error: Failed to decode quote',
    finding: 'D4 TD 1.5 with a non-zero MRSERVICETD (policy in dcap-qvl; no v5 in dcap-qvl-web 0.3.3)',
  },
  'tdx/dcapqvl-tdx-v4-B0C06F000000-2024-09-MISMATCHED-COLLATERAL': {
    ours: 'error: COLLATERAL_MISMATCH',
    js: 'error: Unsupported QE Identity id/version for the quote TEE type',
    web: 'error: Failed to verify certificate chain',
    finding: 'all reject; reasons differ (D5)',
  },
  'tdx/dcapqvl-tdx-v5-90C06F000000-2026-02-no-tcb-match': {
    ours: 'error: TCB_NO_MATCH',
    js: 'error: No matching TCB level found',
    web: 'error: Failed to decode quote',
    finding: 'all reject; dcap-qvl-web 0.3.3 cannot parse quote v5 (D4)',
  },
  'tdx/gotdxguest-tdx-v4-50806F000000-2023-06-no-tcb-match': {
    ours: 'error: TCB_NO_MATCH',
    js: 'error: No matching TCB level found',
    web: 'error: SEPT_VE_DISABLE is not enabled',
    finding: 'all reject; dcap-qvl-web checks TD attributes first (D3)',
  },
};

beforeAll(() => {
  const wasm = readFileSync(require.resolve('@phala/dcap-qvl-web/dcap-qvl-web_bg.wasm'));
  web.initSync({ module: wasm });
});

const runJs = (q: Uint8Array, c: unknown, now: number) => qvl.verify(q, c, now);
const runWeb = (q: Uint8Array, c: unknown, now: number) =>
  web.js_verify(q, c, BigInt(now)) as { status: string; advisory_ids: string[] };

describe('differential: veritee vs @phala/dcap-qvl and @phala/dcap-qvl-web', () => {
  for (const id of vectorIds()) {
    it(id, async () => {
      const mine = await ours(id);
      const js = theirs(id, runJs);
      const wasm = theirs(id, runWeb);
      const known = KNOWN[id];
      if (known === undefined) {
        expect({ js, web: wasm }).toEqual({ js: mine, web: mine });
      } else {
        expect({ ours: mine, js, web: wasm }).toEqual({ ours: known.ours, js: known.js, web: known.web });
      }
    });
  }
});
