/** Intel's TCB rules on synthetic TCB Info / QE Identity, one rule per test. */
import { describe, expect, it } from 'vitest';
import { ErrorCode, type VeriteeError } from '../../src/errors.js';
import {
  evaluateTcb,
  type PckExtension,
  type QeIdentity,
  type SgxReport,
  type TcbInfo,
  type TcbLevel,
  type TcbStatus,
  type TdReport,
} from '../../src/platforms/dcap/index.js';

const z = (n: number): Uint8Array => new Uint8Array(n);
const svns = (first: number[]): number[] => [...first, ...Array(16 - first.length).fill(0)];

function level(sgx: number[], status: TcbStatus, date: string, extra: Partial<TcbLevel> = {}): TcbLevel {
  return { sgxComponents: svns(sgx), pceSvn: 10, tcbDate: date, status, advisoryIds: [], ...extra };
}

function tcbInfo(levels: TcbLevel[], extra: Partial<TcbInfo> = {}): TcbInfo {
  return {
    id: 'SGX',
    version: 3,
    issueDate: new Date(0),
    nextUpdate: new Date(0),
    fmspc: z(6),
    pceId: z(2),
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tcbLevels: levels,
    ...extra,
  };
}

function qeIdentity(levels: { isvSvn: number; status: TcbStatus }[]): QeIdentity {
  return {
    id: 'QE',
    version: 2,
    issueDate: new Date(0),
    nextUpdate: new Date(0),
    tcbEvaluationDataNumber: 17,
    miscSelect: 0,
    miscSelectMask: 0xffffffff,
    attributes: new Uint8Array([0x11, ...z(15)]),
    attributesMask: new Uint8Array([0xfb, ...z(7), ...Array(8).fill(0)]),
    mrSigner: new Uint8Array(32).fill(7),
    isvProdId: 1,
    tcbLevels: levels.map((l, i) => ({ ...l, tcbDate: `202${4 - i}-01-01T00:00:00Z`, advisoryIds: [] })),
  };
}

function qeReport(isvSvn: number, overrides: Partial<SgxReport> = {}): SgxReport {
  return {
    cpuSvn: z(16),
    miscSelect: 0,
    isvExtProdId: z(16),
    attributes: new Uint8Array([0x15, ...z(15)]),
    mrEnclave: z(32),
    mrSigner: new Uint8Array(32).fill(7),
    configId: z(64),
    isvProdId: 1,
    isvSvn,
    configSvn: 0,
    isvFamilyId: z(16),
    reportData: z(64),
    ...overrides,
  };
}

function pck(components: number[], pceSvn = 10): PckExtension {
  return {
    ppid: z(16),
    tcbComponents: svns(components),
    pceSvn,
    cpuSvn: z(16),
    pceId: z(2),
    fmspc: z(6),
    sgxType: 'Standard',
  };
}

function td(teeTcbSvn: number[]): TdReport {
  const b48 = z(48);
  return {
    version: '1.0',
    teeTcbSvn: new Uint8Array(svns(teeTcbSvn)),
    mrSeam: b48,
    mrSignerSeam: b48,
    seamAttributes: z(8),
    tdAttributes: z(8),
    xfam: z(8),
    mrTd: b48,
    mrConfigId: b48,
    mrOwner: b48,
    mrOwnerConfig: b48,
    rtmr: [b48, b48, b48, b48],
    reportData: z(64),
  };
}

const GOOD_QE = qeIdentity([
  { isvSvn: 8, status: 'UpToDate' },
  { isvSvn: 0, status: 'OutOfDate' },
]);

const SGX_INFO = tcbInfo([
  level([5, 5], 'UpToDate', '2024-03-13T00:00:00Z'),
  level([4, 4], 'SWHardeningNeeded', '2023-08-09T00:00:00Z', { advisoryIds: ['INTEL-SA-00615'] }),
  level([3, 3], 'ConfigurationNeeded', '2023-02-15T00:00:00Z'),
  level([2, 2], 'OutOfDate', '2022-08-10T00:00:00Z', { advisoryIds: ['INTEL-SA-00657'] }),
  level([1, 1], 'Revoked', '2018-01-04T00:00:00Z'),
]);

function errorOf(fn: () => unknown): VeriteeError {
  try {
    fn();
  } catch (error) {
    return error as VeriteeError;
  }
  throw new Error('expected an error');
}

describe('platform TCB level selection', () => {
  it('picks the first level whose every component is ≤ the PCK SVNs', () => {
    const cases: [number[], TcbStatus][] = [
      [[9, 9], 'UpToDate'],
      [[5, 5], 'UpToDate'],
      [[5, 4], 'SWHardeningNeeded'],
      [[4, 9], 'SWHardeningNeeded'],
      [[3, 3], 'ConfigurationNeeded'],
      [[2, 5], 'OutOfDate'],
      [[1, 1], 'Revoked'],
    ];
    for (const [components, status] of cases) {
      const result = evaluateTcb({
        tcbInfo: SGX_INFO,
        qeIdentity: GOOD_QE,
        pck: pck(components),
        qeReport: qeReport(8),
      });
      expect(result.status, components.join(',')).toBe(status);
    }
  });

  it('a PCESVN below every level matches none', () => {
    const error = errorOf(() =>
      evaluateTcb({ tcbInfo: SGX_INFO, qeIdentity: GOOD_QE, pck: pck([9, 9], 9), qeReport: qeReport(8) }),
    );
    expect(error.code).toBe(ErrorCode.TCB_NO_MATCH);
  });

  it('no matching level is TCB_NO_MATCH, not a status', () => {
    const error = errorOf(() =>
      evaluateTcb({ tcbInfo: SGX_INFO, qeIdentity: GOOD_QE, pck: pck([0, 9]), qeReport: qeReport(8) }),
    );
    expect(error.code).toBe(ErrorCode.TCB_NO_MATCH);
  });

  it('records when an OutOfDate platform fell behind (the next higher level’s tcbDate)', () => {
    const result = evaluateTcb({
      tcbInfo: SGX_INFO,
      qeIdentity: GOOD_QE,
      pck: pck([2, 2]),
      qeReport: qeReport(8),
    });
    expect(result.outOfDateSince).toBe('2023-02-15T00:00:00Z');
    expect(result.advisoryIds).toEqual(['INTEL-SA-00657']);
  });
});

describe('QE identity and status convergence', () => {
  const convergence: [TcbStatus, TcbStatus][] = [
    ['UpToDate', 'OutOfDate'],
    ['SWHardeningNeeded', 'OutOfDate'],
    ['ConfigurationNeeded', 'OutOfDateConfigurationNeeded'],
    ['OutOfDate', 'OutOfDate'],
  ];
  for (const [platform, combined] of convergence) {
    it(`platform ${platform} + QE OutOfDate → ${combined}`, () => {
      const components = {
        UpToDate: [5, 5],
        SWHardeningNeeded: [4, 4],
        ConfigurationNeeded: [3, 3],
        OutOfDate: [2, 2],
      }[platform as 'UpToDate'];
      const result = evaluateTcb({
        tcbInfo: SGX_INFO,
        qeIdentity: GOOD_QE,
        pck: pck(components),
        qeReport: qeReport(3),
      });
      expect(result.platform.status).toBe(platform);
      expect(result.qe.status).toBe('OutOfDate');
      expect(result.status).toBe(combined);
    });
  }

  it('a Revoked QE makes the result Revoked', () => {
    const identity = qeIdentity([
      { isvSvn: 8, status: 'UpToDate' },
      { isvSvn: 2, status: 'Revoked' },
    ]);
    const result = evaluateTcb({
      tcbInfo: SGX_INFO,
      qeIdentity: identity,
      pck: pck([9, 9]),
      qeReport: qeReport(2),
    });
    expect(result.status).toBe('Revoked');
  });

  it('QE ISVSVN below every level is TCB_NO_MATCH', () => {
    const identity = qeIdentity([{ isvSvn: 8, status: 'UpToDate' }]);
    const error = errorOf(() =>
      evaluateTcb({ tcbInfo: SGX_INFO, qeIdentity: identity, pck: pck([9, 9]), qeReport: qeReport(7) }),
    );
    expect(error.code).toBe(ErrorCode.TCB_NO_MATCH);
  });

  it('MRSIGNER, ISVPRODID, MISCSELECT and masked ATTRIBUTES must match the QE Identity', () => {
    const base = { tcbInfo: SGX_INFO, qeIdentity: GOOD_QE, pck: pck([9, 9]) };
    for (const report of [
      qeReport(8, { mrSigner: new Uint8Array(32).fill(8) }),
      qeReport(8, { isvProdId: 2 }),
      qeReport(8, { miscSelect: 1 }),
      qeReport(8, { attributes: new Uint8Array([0x13, ...z(15)]) }),
    ]) {
      expect(errorOf(() => evaluateTcb({ ...base, qeReport: report })).code).toBe(
        ErrorCode.COLLATERAL_MISMATCH,
      );
    }
    // Bit 2 (MODE64BIT) is outside the mask: 0x15 & 0xfb = 0x11.
    expect(evaluateTcb({ ...base, qeReport: qeReport(8) }).status).toBe('UpToDate');
  });
});

describe('TDX: TEE TCB SVN and the TDX module rule', () => {
  const tdxLevels = (tdx: number[]) => ({ tdxComponents: svns(tdx) });
  const module = { mrSigner: z(48), attributes: z(8), attributesMask: new Uint8Array(8).fill(0xff) };
  const INFO = tcbInfo(
    [
      level([5, 5], 'UpToDate', '2024-03-13T00:00:00Z', tdxLevels([5, 0, 7])),
      level([5, 5], 'OutOfDate', '2023-08-09T00:00:00Z', {
        ...tdxLevels([3, 0, 5]),
        advisoryIds: ['INTEL-SA-00960'],
      }),
    ],
    {
      id: 'TDX',
      tdxModule: module,
      tdxModuleIdentities: [
        {
          id: 'TDX_01',
          ...module,
          tcbLevels: [
            { isvSvn: 4, tcbDate: '2024-03-13T00:00:00Z', status: 'UpToDate', advisoryIds: [] },
            {
              isvSvn: 2,
              tcbDate: '2023-08-09T00:00:00Z',
              status: 'OutOfDate',
              advisoryIds: ['INTEL-SA-00999'],
            },
          ],
        },
      ],
    },
  );
  const base = { tcbInfo: INFO, qeIdentity: GOOD_QE, pck: pck([9, 9]), qeReport: qeReport(8) };

  it('module major 0: all 16 bytes compared (04 00 07 → second level)', () => {
    const result = evaluateTcb({ ...base, td: td([4, 0, 7]) });
    expect(result.status).toBe('OutOfDate');
    expect(result.tdxModule).toBeUndefined();
  });

  it('module major 1: bytes 0–1 skipped for the platform level, graded by TDX_01 instead', () => {
    const result = evaluateTcb({ ...base, td: td([4, 1, 7]) });
    expect(result.platform.status).toBe('UpToDate');
    expect(result.tdxModule).toMatchObject({ id: 'TDX_01', status: 'UpToDate' });
    expect(result.status).toBe('UpToDate');
  });

  it('module identity ids match case-insensitively (tdx_01 grades major 1), other ids do not', () => {
    const identity = INFO.tdxModuleIdentities![0]!;
    const withId = (id: string) => ({ ...INFO, tdxModuleIdentities: [{ ...identity, id }] });
    const lower = evaluateTcb({ ...base, tcbInfo: withId('tdx_01'), td: td([4, 1, 7]) });
    expect(lower.tdxModule).toMatchObject({ id: 'TDX_01', status: 'UpToDate' });
    const other = () => evaluateTcb({ ...base, tcbInfo: withId('TDX_10'), td: td([4, 1, 7]) });
    expect(errorOf(other).code).toBe(ErrorCode.TCB_NO_MATCH);
  });

  it('an OutOfDate module degrades the status and adds its advisories', () => {
    const result = evaluateTcb({ ...base, td: td([3, 1, 7]) });
    expect(result.tdxModule?.status).toBe('OutOfDate');
    expect(result.status).toBe('OutOfDate');
    expect(result.advisoryIds).toEqual(['INTEL-SA-00999']);
    expect(result.outOfDateSince).toBe('2024-03-13T00:00:00Z');
  });

  it('an unknown module major, or an ISVSVN below every module level, is TCB_NO_MATCH', () => {
    expect(errorOf(() => evaluateTcb({ ...base, td: td([4, 2, 7]) })).code).toBe(ErrorCode.TCB_NO_MATCH);
    expect(errorOf(() => evaluateTcb({ ...base, td: td([1, 1, 7]) })).code).toBe(ErrorCode.TCB_NO_MATCH);
  });

  it('bytes 2–15 still count: a lower microcode SVN selects the lower level', () => {
    expect(evaluateTcb({ ...base, td: td([4, 1, 6]) }).status).toBe('OutOfDate');
    expect(errorOf(() => evaluateTcb({ ...base, td: td([4, 1, 4]) })).code).toBe(ErrorCode.TCB_NO_MATCH);
  });

  it('MRSIGNERSEAM must match the module identity', () => {
    const report = { ...td([4, 1, 7]), mrSignerSeam: new Uint8Array(48).fill(1) };
    expect(errorOf(() => evaluateTcb({ ...base, td: report })).code).toBe(ErrorCode.COLLATERAL_MISMATCH);
  });
});
