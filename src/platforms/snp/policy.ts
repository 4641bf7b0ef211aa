/**
 * The `snp` policy section: what a relying party requires of SEV-SNP evidence. Parsed once by
 * {@link parseSnpPolicy} (unknown keys are errors) and frozen; `appraise.ts` applies it. Kept apart from
 * the appraisal so a policy file can be checked without loading the SEV-SNP verifier.
 */
import { fromHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { GuestPolicy, SigningKeyKind } from './report.js';
import { PRODUCTS, type Product, TCB_COMPONENTS, type TcbComponent } from './tcb.js';

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
