/**
 * The `snp` policy section and its appraisal: a pure function of verified SEV-SNP claims and the policy.
 * Every check runs; each failed one is reported with the field, the value found and the value wanted.
 *
 * Every key is optional and an unset key is not checked. The common checks (measurement allow-list under
 * `policy.measurements.measurement`, debug off unless `allowDebug`, report-data binding under
 * `policy.reportData`) are made by the generic appraiser from the common claims, not here.
 *
 * Does not check: signatures, certificates, or the binding of the VCEK to the report (`verify.ts`).
 */
import { fromHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { Policy } from '../../policy/types.js';
import type { Check, VerifiedEvidence } from '../../result.js';
import type { PlatformAppraisal } from '../types.js';
import type { GuestPolicy, SigningKeyKind } from './report.js';
import {
  PRODUCTS,
  type Product,
  TCB_COMPONENTS,
  type TcbComponent,
  type TcbVersion,
  tcbComponentsBelow,
} from './tcb.js';
import type { SnpClaims } from './verify.js';

/** Minimum security patch levels; unset components are not checked. FMC applies only to Turin. */
export type TcbFloor = Readonly<Partial<Record<TcbComponent, number>>>;

/** A floor for every product, or one per product (a product not listed then fails the check). */
export type TcbRequirement = TcbFloor | Readonly<Partial<Record<Product, TcbFloor>>>;

/** GUEST_POLICY bits a policy may require to be set (`true`) or clear (`false`). */
export type PolicyBitName = Exclude<keyof GuestPolicy, 'raw' | 'abiMajor' | 'abiMinor'>;
const POLICY_BITS: readonly PolicyBitName[] = [
  'smt',
  'migrateMa',
  'debug',
  'singleSocket',
  'cxlAllowed',
  'memAes256Xts',
  'raplDis',
  'ciphertextHidingDram',
  'pageSwapDisable',
];

export interface SnpPolicy {
  /** Floor for CURRENT_TCB, REPORTED_TCB and COMMITTED_TCB. */
  readonly minimumTcb?: TcbRequirement | undefined;
  /** Floor for LAUNCH_TCB. */
  readonly minimumLaunchTcb?: TcbRequirement | undefined;
  /** Accepted products (`Milan`, `Genoa`, `Turin`). */
  readonly products?: readonly Product[] | undefined;
  /** Accepted endorsement keys (`vcek`, `vlek`). */
  readonly keyKinds?: readonly SigningKeyKind[] | undefined;
  /** Highest VMPL accepted (0 is the most privileged). */
  readonly maximumVmpl?: number | undefined;
  /** HOST_DATA, 32 bytes, lowercase hex. */
  readonly hostData?: string | undefined;
  /** FAMILY_ID / IMAGE_ID, 16 bytes each. */
  readonly familyId?: string | undefined;
  readonly imageId?: string | undefined;
  /** ID_KEY_DIGEST / AUTHOR_KEY_DIGEST, 48 bytes each (any-of). */
  readonly idKeyDigests?: readonly string[] | undefined;
  readonly authorKeyDigests?: readonly string[] | undefined;
  /** CHIP_ID, 64 bytes (any-of). */
  readonly chipIds?: readonly string[] | undefined;
  readonly minimumGuestSvn?: number | undefined;
  /** Minimum guest ABI version in GUEST_POLICY. */
  readonly minimumAbi?: { readonly major: number; readonly minor: number } | undefined;
  /** Minimum firmware (CURRENT and COMMITTED). */
  readonly minimumFirmware?:
    | { readonly major: number; readonly minor: number; readonly build?: number }
    | undefined;
  /** GUEST_POLICY bits that must have the given value, e.g. `{ migrateMa: false, smt: false }`. */
  readonly policyBits?: Readonly<Partial<Record<PolicyBitName, boolean>>> | undefined;
  /** Require that an AMD CRL was checked. */
  readonly requireCrl?: boolean | undefined;
}

const KNOWN_KEYS = [
  'minimumTcb',
  'minimumLaunchTcb',
  'products',
  'keyKinds',
  'maximumVmpl',
  'hostData',
  'familyId',
  'imageId',
  'idKeyDigests',
  'authorKeyDigests',
  'chipIds',
  'minimumGuestSvn',
  'minimumAbi',
  'minimumFirmware',
  'policyBits',
  'requireCrl',
] as const;

function policyError(message: string, path: string): VeriteeError {
  return new VeriteeError(ErrorCode.POLICY_INVALID, message, { path });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function onlyKeys(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw policyError(`unknown key "${key}"`, `${path}/${key}`);
  }
}

function integer(value: unknown, path: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw policyError(`must be an integer in 0..${max}`, path);
  }
  return value;
}

function hexOf(value: unknown, bytes: number, path: string): string {
  if (typeof value !== 'string') throw policyError(`must be ${bytes} bytes of hex`, path);
  const decoded = (() => {
    try {
      return fromHex(value, path);
    } catch {
      throw policyError(`must be ${bytes} bytes of hex`, path);
    }
  })();
  if (decoded.length !== bytes)
    throw policyError(`must be ${bytes} bytes of hex, got ${decoded.length}`, path);
  return value.toLowerCase().replace(/^0x/, '');
}

function hexList(value: unknown, bytes: number, path: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0)
    throw policyError('must be a non-empty list of hex values', path);
  return list.map((item, index) => hexOf(item, bytes, `${path}[${index}]`));
}

function enumList<T extends string>(value: unknown, allowed: readonly T[], path: string): T[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw policyError('must be a non-empty list', path);
  return list.map((item, index) => {
    const found = allowed.find((a) => a.toLowerCase() === String(item).toLowerCase());
    if (found === undefined) throw policyError(`must be one of ${allowed.join(', ')}`, `${path}[${index}]`);
    return found;
  });
}

function parseFloor(value: unknown, path: string): TcbFloor {
  if (!isRecord(value)) throw policyError('must be an object of TCB components', path);
  onlyKeys(value, TCB_COMPONENTS, path);
  const floor: Partial<Record<TcbComponent, number>> = {};
  for (const component of TCB_COMPONENTS) {
    if (value[component] !== undefined)
      floor[component] = integer(value[component], `${path}/${component}`, 255);
  }
  return Object.freeze(floor);
}

function parseTcbRequirement(value: unknown, path: string): TcbRequirement {
  if (!isRecord(value)) throw policyError('must be an object', path);
  const keys = Object.keys(value);
  if (keys.length > 0 && keys.every((key) => (PRODUCTS as readonly string[]).includes(key))) {
    const out: Partial<Record<Product, TcbFloor>> = {};
    for (const product of PRODUCTS) {
      if (value[product] !== undefined) out[product] = parseFloor(value[product], `${path}/${product}`);
    }
    return Object.freeze(out);
  }
  return parseFloor(value, path);
}

/** Validates the `snp` policy section (a parsed JSON value) and returns it frozen. */
export function parseSnpPolicy(value: unknown, path = 'snp'): SnpPolicy {
  if (!isRecord(value)) throw policyError('the snp policy section must be an object', path);
  onlyKeys(value, KNOWN_KEYS, path);
  const at = (key: string): string => `${path}/${key}`;
  const out: Record<string, unknown> = {};
  if (value.minimumTcb !== undefined)
    out.minimumTcb = parseTcbRequirement(value.minimumTcb, at('minimumTcb'));
  if (value.minimumLaunchTcb !== undefined) {
    out.minimumLaunchTcb = parseTcbRequirement(value.minimumLaunchTcb, at('minimumLaunchTcb'));
  }
  if (value.products !== undefined) out.products = enumList(value.products, PRODUCTS, at('products'));
  if (value.keyKinds !== undefined) {
    out.keyKinds = enumList<SigningKeyKind>(value.keyKinds, ['vcek', 'vlek'], at('keyKinds'));
  }
  if (value.maximumVmpl !== undefined) out.maximumVmpl = integer(value.maximumVmpl, at('maximumVmpl'), 3);
  if (value.hostData !== undefined) out.hostData = hexOf(value.hostData, 32, at('hostData'));
  if (value.familyId !== undefined) out.familyId = hexOf(value.familyId, 16, at('familyId'));
  if (value.imageId !== undefined) out.imageId = hexOf(value.imageId, 16, at('imageId'));
  if (value.idKeyDigests !== undefined)
    out.idKeyDigests = hexList(value.idKeyDigests, 48, at('idKeyDigests'));
  if (value.authorKeyDigests !== undefined) {
    out.authorKeyDigests = hexList(value.authorKeyDigests, 48, at('authorKeyDigests'));
  }
  if (value.chipIds !== undefined) out.chipIds = hexList(value.chipIds, 64, at('chipIds'));
  if (value.minimumGuestSvn !== undefined) {
    out.minimumGuestSvn = integer(value.minimumGuestSvn, at('minimumGuestSvn'), 0xffffffff);
  }
  if (value.minimumAbi !== undefined) {
    const abi = value.minimumAbi;
    if (!isRecord(abi)) throw policyError('must be { major, minor }', at('minimumAbi'));
    onlyKeys(abi, ['major', 'minor'], at('minimumAbi'));
    out.minimumAbi = Object.freeze({
      major: integer(abi.major, `${at('minimumAbi')}/major`, 255),
      minor: integer(abi.minor ?? 0, `${at('minimumAbi')}/minor`, 255),
    });
  }
  if (value.minimumFirmware !== undefined) {
    const fw = value.minimumFirmware;
    if (!isRecord(fw)) throw policyError('must be { major, minor, build? }', at('minimumFirmware'));
    onlyKeys(fw, ['major', 'minor', 'build'], at('minimumFirmware'));
    out.minimumFirmware = Object.freeze({
      major: integer(fw.major, `${at('minimumFirmware')}/major`, 255),
      minor: integer(fw.minor ?? 0, `${at('minimumFirmware')}/minor`, 255),
      build: integer(fw.build ?? 0, `${at('minimumFirmware')}/build`, 255),
    });
  }
  if (value.policyBits !== undefined) {
    const bits = value.policyBits;
    if (!isRecord(bits)) throw policyError('must be an object of booleans', at('policyBits'));
    onlyKeys(bits, POLICY_BITS, at('policyBits'));
    for (const [name, wanted] of Object.entries(bits)) {
      if (typeof wanted !== 'boolean')
        throw policyError('must be true or false', `${at('policyBits')}/${name}`);
    }
    out.policyBits = Object.freeze({ ...bits });
  }
  if (value.requireCrl !== undefined) {
    if (typeof value.requireCrl !== 'boolean') throw policyError('must be true or false', at('requireCrl'));
    out.requireCrl = value.requireCrl;
  }
  return Object.freeze(out) as SnpPolicy;
}

function floorFor(requirement: TcbRequirement, product: Product): TcbFloor | undefined {
  const keys = Object.keys(requirement);
  const perProduct = keys.length > 0 && keys.every((key) => (PRODUCTS as readonly string[]).includes(key));
  if (!perProduct) return requirement as TcbFloor;
  return (requirement as Partial<Record<Product, TcbFloor>>)[product];
}

function describeTcb(tcb: TcbVersion): string {
  const fmc = tcb.fmc === undefined ? '' : `fmc=${tcb.fmc} `;
  return `${fmc}bl=${tcb.bootloader} tee=${tcb.tee} snp=${tcb.snp} ucode=${tcb.microcode}`;
}

function describeFloor(floor: TcbFloor): string {
  return TCB_COMPONENTS.filter((c) => floor[c] !== undefined)
    .map((c) => `${c}≥${floor[c]}`)
    .join(' ');
}

function versionAtLeast(found: readonly number[], wanted: readonly number[]): boolean {
  for (let i = 0; i < wanted.length; i++) {
    const f = found[i] ?? 0;
    const w = wanted[i] ?? 0;
    if (f !== w) return f > w;
  }
  return true;
}

/** Appraises verified SEV-SNP evidence against the `snp` section of `policy`. Pure; no I/O. */
export function appraiseSnp(evidence: VerifiedEvidence, policy: Policy): PlatformAppraisal {
  if (evidence.platform !== 'sev-snp') {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'not SEV-SNP evidence', { path: 'evidence/platform' });
  }
  const claims = evidence.platformClaims as unknown as SnpClaims;
  const section = policy.sections.snp;
  const snp = section === undefined ? {} : parseSnpPolicy(section);
  const checks: Check[] = [];
  const add = (id: string, ok: boolean, found: string, wanted: string): void => {
    checks.push({ id: `policy.snp.${id}`, ok, detail: ok ? found : `found ${found}, wanted ${wanted}` });
  };

  if (snp.products !== undefined) {
    add(
      'product',
      snp.products.includes(claims.product),
      claims.product,
      `one of ${snp.products.join(', ')}`,
    );
  }
  if (snp.keyKinds !== undefined) {
    add(
      'keyKind',
      snp.keyKinds.includes(claims.signingKey),
      claims.signingKey,
      `one of ${snp.keyKinds.join(', ')}`,
    );
  }
  if (snp.maximumVmpl !== undefined) {
    add('vmpl', claims.vmpl <= snp.maximumVmpl, `VMPL ${claims.vmpl}`, `VMPL ≤ ${snp.maximumVmpl}`);
  }
  const tcbCheck = (
    id: string,
    requirement: TcbRequirement | undefined,
    tcbs: Record<string, TcbVersion>,
  ): void => {
    if (requirement === undefined) return;
    const floor = floorFor(requirement, claims.product);
    if (floor === undefined) {
      add(id, false, `product ${claims.product}`, `a minimum TCB for ${claims.product} in the policy`);
      return;
    }
    for (const [name, tcb] of Object.entries(tcbs)) {
      const below = tcbComponentsBelow(tcb, floor);
      add(
        `${id}.${name}`,
        below.length === 0,
        `${name} TCB ${describeTcb(tcb)}${below.length > 0 ? ` (below in ${below.join(', ')})` : ''}`,
        describeFloor(floor),
      );
    }
  };
  tcbCheck('minimumTcb', snp.minimumTcb, {
    current: claims.currentTcb,
    reported: claims.reportedTcb,
    committed: claims.committedTcb,
  });
  tcbCheck('minimumLaunchTcb', snp.minimumLaunchTcb, { launch: claims.launchTcb });

  const exact = (id: string, wanted: string | undefined, found: string): void => {
    if (wanted !== undefined) add(id, wanted === found, found, wanted);
  };
  exact('hostData', snp.hostData, claims.hostData);
  exact('familyId', snp.familyId, claims.familyId);
  exact('imageId', snp.imageId, claims.imageId);
  const anyOf = (id: string, wanted: readonly string[] | undefined, found: string): void => {
    if (wanted !== undefined)
      add(id, wanted.includes(found), found, `one of ${wanted.length} allowed value(s)`);
  };
  anyOf('idKeyDigest', snp.idKeyDigests, claims.idKeyDigest);
  anyOf('authorKeyDigest', snp.authorKeyDigests, claims.authorKeyDigest);
  anyOf('chipId', snp.chipIds, claims.chipId);

  if (snp.minimumGuestSvn !== undefined) {
    add('guestSvn', claims.guestSvn >= snp.minimumGuestSvn, `${claims.guestSvn}`, `≥ ${snp.minimumGuestSvn}`);
  }
  if (snp.minimumAbi !== undefined) {
    const { major, minor } = snp.minimumAbi;
    add(
      'abi',
      versionAtLeast([claims.policy.abiMajor, claims.policy.abiMinor], [major, minor]),
      `ABI ${claims.policy.abiMajor}.${claims.policy.abiMinor}`,
      `≥ ${major}.${minor}`,
    );
  }
  if (snp.minimumFirmware !== undefined) {
    const { major, minor, build = 0 } = snp.minimumFirmware;
    for (const [name, fw] of [
      ['current', claims.currentFirmware],
      ['committed', claims.committedFirmware],
    ] as const) {
      add(
        `firmware.${name}`,
        versionAtLeast([fw.major, fw.minor, fw.build], [major, minor, build]),
        `${name} firmware ${fw.major}.${fw.minor}.${fw.build}`,
        `≥ ${major}.${minor}.${build}`,
      );
    }
  }
  if (snp.policyBits !== undefined) {
    for (const [name, wanted] of Object.entries(snp.policyBits) as [PolicyBitName, boolean][]) {
      const found = claims.policy[name];
      add(`policy.${name}`, found === wanted, `${name}=${found}`, `${name}=${wanted}`);
    }
  }
  if (snp.requireCrl === true) {
    add('crl', claims.crlChecked, claims.crlChecked ? 'CRL checked' : 'no CRL checked', 'an AMD CRL');
  }
  return { checks, warnings: [] };
}
