/**
 * The SEV-SNP ATTESTATION_REPORT structure (AMD SEV-SNP ABI specification, doc 56860, §7.3 Table 23
 * "ATTESTATION_REPORT Structure"; TCB_VERSION in §2.2 Table 3; GUEST_POLICY §4.3 Table 9; PLATFORM_INFO
 * Table 24; signature format Chapter 10 Table 139/141).
 *
 * `parseReport` is total: any byte string yields an `SnpReport` or a `VeriteeError`. It checks the length,
 * the version (2, 3 or 5), the signature algorithm, every reserved range and reserved bit, and decodes the
 * little-endian r/s signature into a big-endian P1363 signature.
 *
 * Does not check: the signature itself, the certificates, or anything about the TCB values (their
 * layout depends on the product, which for a version 2 report is known only from the VCEK: see `tcb.ts`).
 */
import { ByteReader, isAllZero } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { REPORT_SIZE, SIG_ALGO_ECDSA_P384_SHA384, SUPPORTED_VERSIONS } from './layout.js';

/** The signature covers bytes 0x000–0x29F (Table 23, footnote on SIGNATURE). */
export const SIGNED_SIZE = 0x2a0;
/** Size of one ECDSA P-384 component field (Table 141: R and S are 72-byte little-endian fields). */
const SIG_COMPONENT_FIELD = 72;
/** Size of a P-384 scalar. */
const P384_SCALAR = 48;

/** VMPL value the firmware writes for a report requested by the host (SNP_HV_REPORT_REQ), not the guest. */
export const VMPL_HOST_REQUESTED = 0xffffffff;

export type SigningKeyKind = 'vcek' | 'vlek';

/** GUEST_POLICY (§4.3 Table 9), decoded bit by bit. */
export interface GuestPolicy {
  /** The raw 64-bit value as 16 lowercase hex digits. */
  readonly raw: string;
  readonly abiMinor: number;
  readonly abiMajor: number;
  /** Bit 16: SMT allowed. */
  readonly smt: boolean;
  /** Bit 18: association with a migration agent allowed. */
  readonly migrateMa: boolean;
  /** Bit 19: debugging allowed. */
  readonly debug: boolean;
  /** Bit 20: guest may run on a single socket only. */
  readonly singleSocket: boolean;
  /** Bit 21: CXL may be populated with guest memory. */
  readonly cxlAllowed: boolean;
  /** Bit 22: AES-256-XTS memory encryption required. */
  readonly memAes256Xts: boolean;
  /** Bit 23: RAPL must be disabled. */
  readonly raplDis: boolean;
  /** Bit 24: ciphertext hiding for DRAM required. */
  readonly ciphertextHidingDram: boolean;
  /** Bit 25: guest page swap (SNP_PAGE_MOVE/SWAP) disabled. */
  readonly pageSwapDisable: boolean;
}

/** PLATFORM_INFO (Table 24), decoded bit by bit; bits this version does not name are kept in `otherBits`. */
export interface PlatformInfo {
  readonly raw: string;
  /** Bit 0: SMT enabled on the host. */
  readonly smtEnabled: boolean;
  /** Bit 1: TSME enabled. */
  readonly tsmeEnabled: boolean;
  /** Bit 2: ECC memory in use. */
  readonly eccEnabled: boolean;
  /** Bit 3: RAPL disabled. */
  readonly raplDisabled: boolean;
  /** Bit 4: ciphertext hiding enabled for DRAM. */
  readonly ciphertextHidingDramEnabled: boolean;
  /** Bit 5: alias check completed (memory aliasing checked at boot). */
  readonly aliasCheckComplete: boolean;
  /** Bit 7: SEV-TIO enabled. */
  readonly tioEnabled: boolean;
  /** Set bits not named above (bit 6 and 8–63), as 16 hex digits; all zero on current firmware. */
  readonly otherBits: string;
}

/** The signer-info word at 0x48 (Table 23: AUTHOR_KEY_EN, MASK_CHIP_KEY, SIGNING_KEY). */
export interface SignerInfo {
  readonly authorKeyEn: boolean;
  readonly maskChipKey: boolean;
  readonly signingKey: SigningKeyKind;
}

export interface FirmwareVersion {
  readonly major: number;
  readonly minor: number;
  readonly build: number;
}

export interface Cpuid {
  readonly family: number;
  readonly model: number;
  readonly stepping: number;
}

export interface SnpReport {
  /** A private copy of the 1184 report bytes. */
  readonly bytes: Uint8Array;
  readonly version: number;
  readonly guestSvn: number;
  readonly policy: GuestPolicy;
  readonly familyId: Uint8Array;
  readonly imageId: Uint8Array;
  readonly vmpl: number;
  readonly signatureAlgo: number;
  /** TCB_VERSION values as their 8 raw bytes; decode with `decodeTcb` once the product is known. */
  readonly currentTcb: Uint8Array;
  readonly platformInfo: PlatformInfo;
  readonly signer: SignerInfo;
  readonly reportData: Uint8Array;
  readonly measurement: Uint8Array;
  readonly hostData: Uint8Array;
  readonly idKeyDigest: Uint8Array;
  readonly authorKeyDigest: Uint8Array;
  readonly reportId: Uint8Array;
  readonly reportIdMa: Uint8Array;
  readonly reportedTcb: Uint8Array;
  /** CPUID family/model/stepping (version 3 and later). */
  readonly cpuid: Cpuid | undefined;
  readonly chipId: Uint8Array;
  readonly committedTcb: Uint8Array;
  readonly currentFirmware: FirmwareVersion;
  readonly committedFirmware: FirmwareVersion;
  readonly launchTcb: Uint8Array;
  /** LAUNCH_MIT_VECTOR / CURRENT_MIT_VECTOR (version 5 and later), 16 hex digits. */
  readonly launchMitVector: string | undefined;
  readonly currentMitVector: string | undefined;
  /** Bytes 0x000–0x29F: what the signature covers (a view into `bytes`). */
  readonly signedBytes: Uint8Array;
  /** r ‖ s, big-endian, 48 bytes each (IEEE P1363), converted from the little-endian fields. */
  readonly signature: Uint8Array;
}

function invalid(message: string, path: string, offset?: number, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.PARSE_INVALID_VALUE, message, { path, offset, details });
}

function hex64(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}

function bit(value: bigint, index: number): boolean {
  return ((value >> BigInt(index)) & 1n) === 1n;
}

// §4.3 Table 9: bit 17 is reserved and must be one; bits 63:26 are reserved and must be zero.
const POLICY_RESERVED_ONE_BIT = 17;
const POLICY_FIRST_RESERVED_HIGH_BIT = 26n;

/** Decodes GUEST_POLICY, rejecting a cleared bit 17 or any set bit in 63:26. */
export function decodeGuestPolicy(value: bigint, path = 'report/policy'): GuestPolicy {
  if (!bit(value, POLICY_RESERVED_ONE_BIT)) {
    throw invalid('guest policy bit 17 is reserved and must be set', path, 0x08);
  }
  if (value >> POLICY_FIRST_RESERVED_HIGH_BIT !== 0n) {
    throw invalid('guest policy bits 63:26 are reserved and must be zero', path, 0x08, `0x${hex64(value)}`);
  }
  return {
    raw: hex64(value),
    abiMinor: Number(value & 0xffn),
    abiMajor: Number((value >> 8n) & 0xffn),
    smt: bit(value, 16),
    migrateMa: bit(value, 18),
    debug: bit(value, 19),
    singleSocket: bit(value, 20),
    cxlAllowed: bit(value, 21),
    memAes256Xts: bit(value, 22),
    raplDis: bit(value, 23),
    ciphertextHidingDram: bit(value, 24),
    pageSwapDisable: bit(value, 25),
  };
}

const PLATFORM_INFO_NAMED_BITS = 0b1011_1111n;

/** Decodes PLATFORM_INFO. Unnamed bits are kept (the host's configuration, not a format error). */
export function decodePlatformInfo(value: bigint): PlatformInfo {
  return {
    raw: hex64(value),
    smtEnabled: bit(value, 0),
    tsmeEnabled: bit(value, 1),
    eccEnabled: bit(value, 2),
    raplDisabled: bit(value, 3),
    ciphertextHidingDramEnabled: bit(value, 4),
    aliasCheckComplete: bit(value, 5),
    tioEnabled: bit(value, 7),
    otherBits: hex64(value & ~PLATFORM_INFO_NAMED_BITS),
  };
}

// Table 23 offset 0x48: bit 0 AUTHOR_KEY_EN, bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY (0 VCEK, 1 VLEK,
// 7 none, others reserved), bits 31:5 reserved.
function decodeSignerInfo(value: number, path: string): SignerInfo {
  if (value >>> 5 !== 0) throw invalid('signer info bits 31:5 are reserved and must be zero', path, 0x48);
  const key = (value >>> 2) & 7;
  let signingKey: SigningKeyKind;
  if (key === 0) signingKey = 'vcek';
  else if (key === 1) signingKey = 'vlek';
  else if (key === 7) {
    throw new VeriteeError(ErrorCode.EVIDENCE_INVALID, 'report is not signed (SIGNING_KEY = none)', {
      path,
      offset: 0x48,
    });
  } else throw invalid(`signing key ${key} is reserved`, path, 0x48);
  return { authorKeyEn: (value & 1) === 1, maskChipKey: (value & 2) === 2, signingKey };
}

/**
 * Converts one 72-byte little-endian signature component (Table 141) to a 48-byte big-endian scalar.
 * The top 24 bytes must be zero: a P-384 scalar fits in 48.
 */
function componentToBigEndian(field: Uint8Array, path: string, offset: number): Uint8Array {
  if (!isAllZero(field.subarray(P384_SCALAR))) {
    throw invalid('signature component is larger than a P-384 scalar', path, offset + P384_SCALAR);
  }
  const out = new Uint8Array(P384_SCALAR);
  for (let i = 0; i < P384_SCALAR; i++) out[i] = field[P384_SCALAR - 1 - i]!;
  return out;
}

/**
 * Parses exactly one 1184-byte ATTESTATION_REPORT. The input is copied; the result does not change if the
 * caller's buffer does.
 */
export function parseReport(input: Uint8Array, path = 'report'): SnpReport {
  if (!(input instanceof Uint8Array)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'report must be a Uint8Array', { path });
  }
  if (input.length < REPORT_SIZE) {
    throw new VeriteeError(ErrorCode.PARSE_TRUNCATED, 'SEV-SNP report is too short', {
      path,
      details: `${input.length} bytes, a report is ${REPORT_SIZE}`,
    });
  }
  if (input.length > REPORT_SIZE) {
    throw new VeriteeError(ErrorCode.PARSE_TRAILING_BYTES, 'SEV-SNP report is too long', {
      path,
      offset: REPORT_SIZE,
      details: `${input.length} bytes, a report is ${REPORT_SIZE}`,
    });
  }
  const bytes = input.slice();
  const r = new ByteReader(bytes, path);
  const version = r.u32('version'); // 0x000
  if (!SUPPORTED_VERSIONS.includes(version)) {
    throw new VeriteeError(ErrorCode.UNSUPPORTED, `SEV-SNP report version ${version} is not supported`, {
      path: `${path}/version`,
      offset: 0,
      details: `supported: ${SUPPORTED_VERSIONS.join(', ')}`,
    });
  }
  const guestSvn = r.u32('guest_svn'); // 0x004
  const policy = decodeGuestPolicy(r.u64('policy'), `${path}/policy`); // 0x008
  const familyId = r.take(16, 'family_id'); // 0x010
  const imageId = r.take(16, 'image_id'); // 0x020
  const vmpl = r.u32('vmpl'); // 0x030
  if (vmpl === VMPL_HOST_REQUESTED) {
    throw new VeriteeError(ErrorCode.UNSUPPORTED, 'report was requested by the host, not by the guest', {
      path: `${path}/vmpl`,
      offset: 0x30,
      details: 'VMPL 0xFFFFFFFF: REPORT_DATA was chosen by the host',
    });
  }
  if (vmpl > 3) throw invalid(`VMPL ${vmpl} is out of range 0..3`, `${path}/vmpl`, 0x30);
  const signatureAlgo = r.u32('signature_algo'); // 0x034
  if (signatureAlgo !== SIG_ALGO_ECDSA_P384_SHA384) {
    throw new VeriteeError(
      ErrorCode.SIG_ALGORITHM_UNSUPPORTED,
      `report signature algorithm ${signatureAlgo} is not ECDSA P-384 with SHA-384`,
      { path: `${path}/signature_algo`, offset: 0x34 },
    );
  }
  const currentTcb = r.take(8, 'current_tcb'); // 0x038
  const platformInfo = decodePlatformInfo(r.u64('platform_info')); // 0x040
  const signer = decodeSignerInfo(r.u32('signer_info'), `${path}/signer_info`); // 0x048
  r.zeros(4, 'reserved_04c'); // 0x04C
  const reportData = r.take(64, 'report_data'); // 0x050
  const measurement = r.take(48, 'measurement'); // 0x090
  const hostData = r.take(32, 'host_data'); // 0x0C0
  const idKeyDigest = r.take(48, 'id_key_digest'); // 0x0E0
  const authorKeyDigest = r.take(48, 'author_key_digest'); // 0x110
  const reportId = r.take(32, 'report_id'); // 0x140
  const reportIdMa = r.take(32, 'report_id_ma'); // 0x160
  const reportedTcb = r.take(8, 'reported_tcb'); // 0x180
  let cpuid: Cpuid | undefined;
  if (version >= 3) {
    // 0x188 CPUID_FAM_ID, 0x189 CPUID_MOD_ID, 0x18A CPUID_STEP (ABI 1.56+, report version 3).
    cpuid = { family: r.u8('cpuid_fam_id'), model: r.u8('cpuid_mod_id'), stepping: r.u8('cpuid_step') };
    r.zeros(0x1a0 - 0x18b, 'reserved_18b'); // 0x18B–0x19F
  } else {
    r.zeros(0x1a0 - 0x188, 'reserved_188'); // 0x188–0x19F
  }
  const chipId = r.take(64, 'chip_id'); // 0x1A0
  const committedTcb = r.take(8, 'committed_tcb'); // 0x1E0
  const currentFirmware = readFirmware(r, 'current'); // 0x1E8–0x1EB
  const committedFirmware = readFirmware(r, 'committed'); // 0x1EC–0x1EF
  const launchTcb = r.take(8, 'launch_tcb'); // 0x1F0
  let launchMitVector: string | undefined;
  let currentMitVector: string | undefined;
  if (version >= 5) {
    launchMitVector = hex64(r.u64('launch_mit_vector')); // 0x1F8
    currentMitVector = hex64(r.u64('current_mit_vector')); // 0x200
  } else {
    r.zeros(16, 'reserved_1f8'); // 0x1F8–0x207
  }
  r.zeros(SIGNED_SIZE - 0x208, 'reserved_208'); // 0x208–0x29F
  const rField = r.bytesView(SIG_COMPONENT_FIELD, 'signature/r'); // 0x2A0
  const sField = r.bytesView(SIG_COMPONENT_FIELD, 'signature/s'); // 0x2E8
  r.zeros(REPORT_SIZE - SIGNED_SIZE - 2 * SIG_COMPONENT_FIELD, 'signature/reserved'); // 0x330–0x49F
  r.finish();
  const signature = new Uint8Array(2 * P384_SCALAR);
  signature.set(componentToBigEndian(rField, `${path}/signature/r`, SIGNED_SIZE), 0);
  signature.set(
    componentToBigEndian(sField, `${path}/signature/s`, SIGNED_SIZE + SIG_COMPONENT_FIELD),
    P384_SCALAR,
  );
  return {
    bytes,
    version,
    guestSvn,
    policy,
    familyId,
    imageId,
    vmpl,
    signatureAlgo,
    currentTcb,
    platformInfo,
    signer,
    reportData,
    measurement,
    hostData,
    idKeyDigest,
    authorKeyDigest,
    reportId,
    reportIdMa,
    reportedTcb,
    cpuid,
    chipId,
    committedTcb,
    currentFirmware,
    committedFirmware,
    launchTcb,
    launchMitVector,
    currentMitVector,
    signedBytes: bytes.subarray(0, SIGNED_SIZE),
    signature,
  };
}

// Table 23: CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR, reserved (and the same for COMMITTED).
function readFirmware(r: ByteReader, which: 'current' | 'committed'): FirmwareVersion {
  const build = r.u8(`${which}_build`);
  const minor = r.u8(`${which}_minor`);
  const major = r.u8(`${which}_major`);
  r.zeros(1, `reserved_${which}_version`);
  return { major, minor, build };
}
