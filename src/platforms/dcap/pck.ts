/**
 * The Intel SGX PCK certificate extension (OID 1.2.840.113741.1.13.1), as laid out in Intel's "SGX PCK
 * Certificate and Certificate Revocation List Profile Specification", §1.5 "Intel SGX PCK Certificate"
 * (SGX Extensions table): PPID, TCB (16 component SVNs, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX Type, and for
 * platform-CA certificates optionally PlatformInstanceID and Configuration.
 *
 * Also the name checks on the certificates of Intel's PKI: which common name may sign what.
 *
 * Does not check: the certificate's signature, validity or revocation (see `verify.ts`), nor whether the
 * TCB values are current (see `tcb.ts`).
 */
import { toHex } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { Certificate } from '../../pki/certificate.js';
import {
  children,
  type DerElement,
  expectTag,
  parseDer,
  readBoolean,
  readOid,
  readSmallInteger,
  readString,
  sequence,
  Tag,
} from '../../pki/der.js';

export const SGX_EXTENSION_OID = '1.2.840.113741.1.13.1';
const OID = {
  ppid: `${SGX_EXTENSION_OID}.1`,
  tcb: `${SGX_EXTENSION_OID}.2`,
  pceId: `${SGX_EXTENSION_OID}.3`,
  fmspc: `${SGX_EXTENSION_OID}.4`,
  sgxType: `${SGX_EXTENSION_OID}.5`,
  platformInstanceId: `${SGX_EXTENSION_OID}.6`,
  configuration: `${SGX_EXTENSION_OID}.7`,
} as const;

/** SGX Type values (profile spec, "SGX Type" ENUMERATED). */
const SGX_TYPES = ['Standard', 'Scalable', 'ScalableWithIntegrity'] as const;
export type SgxType = (typeof SGX_TYPES)[number];

export interface PckExtension {
  readonly ppid: Uint8Array;
  /** TCB component SVNs 1–16 (`sgxtcbcomponents` order). */
  readonly tcbComponents: readonly number[];
  readonly pceSvn: number;
  readonly cpuSvn: Uint8Array;
  readonly pceId: Uint8Array;
  readonly fmspc: Uint8Array;
  readonly sgxType: SgxType;
  readonly platformInstanceId?: Uint8Array | undefined;
  readonly configuration?:
    | { readonly dynamicPlatform?: boolean; readonly cachedKeys?: boolean; readonly smtEnabled?: boolean }
    | undefined;
}

function malformed(message: string, path: string, offset?: number): VeriteeError {
  return new VeriteeError(ErrorCode.CERT_MALFORMED, message, { path, offset });
}

function octets(element: DerElement | undefined, path: string, length: number): Uint8Array {
  const value = expectTag(element, Tag.OCTET_STRING, path).value;
  if (value.length !== length) {
    throw malformed(`must be ${length} bytes, found ${value.length}`, path, element!.offset);
  }
  return value.slice();
}

function readSvn(element: DerElement | undefined, path: string, max: number): number {
  const value = readSmallInteger(element, path);
  if (value > max) throw malformed(`SVN ${value} is larger than ${max}`, path, element!.offset);
  return value;
}

function readEnumerated(element: DerElement | undefined, path: string): number {
  const value = expectTag(element, Tag.ENUMERATED, path).value;
  if (value.length !== 1 || value[0]! > 0x7f) throw malformed('malformed ENUMERATED', path, element!.offset);
  return value[0]!;
}

/** Splits a SEQUENCE OF SEQUENCE { OID, value } into a map; duplicate OIDs are refused. */
function members(element: DerElement | undefined, path: string): Map<string, DerElement> {
  const out = new Map<string, DerElement>();
  for (const [i, item] of sequence(element, path).entries()) {
    const fields = sequence(item, `${path}[${i}]`);
    if (fields.length !== 2) throw malformed('entry must be { OID, value }', `${path}[${i}]`, item.offset);
    const oid = readOid(fields[0], `${path}[${i}]/oid`);
    if (out.has(oid)) throw malformed(`duplicate entry ${oid}`, `${path}[${i}]`, item.offset);
    out.set(oid, fields[1]!);
  }
  return out;
}

function required(map: Map<string, DerElement>, oid: string, path: string): DerElement {
  const element = map.get(oid);
  if (element === undefined) {
    throw new VeriteeError(ErrorCode.CERT_MALFORMED, `SGX extension lacks ${oid}`, { path });
  }
  return element;
}

function parseTcb(
  element: DerElement,
  path: string,
): Pick<PckExtension, 'tcbComponents' | 'pceSvn' | 'cpuSvn'> {
  const map = members(element, path);
  const tcbComponents: number[] = [];
  for (let i = 1; i <= 16; i++) {
    tcbComponents.push(readSvn(required(map, `${OID.tcb}.${i}`, path), `${path}/comp${i}`, 255));
  }
  const pceSvn = readSvn(required(map, `${OID.tcb}.17`, path), `${path}/pcesvn`, 65535);
  const cpuSvn = octets(required(map, `${OID.tcb}.18`, path), `${path}/cpusvn`, 16);
  if (map.size !== 18) throw malformed('TCB has unexpected entries', path, element.offset);
  return { tcbComponents, pceSvn, cpuSvn };
}

function parseConfiguration(element: DerElement, path: string): PckExtension['configuration'] {
  const map = members(element, path);
  const flag = (n: number): boolean | undefined => {
    const item = map.get(`${OID.configuration}.${n}`);
    return item === undefined ? undefined : readBoolean(item, `${path}/${n}`);
  };
  return { dynamicPlatform: flag(1), cachedKeys: flag(2), smtEnabled: flag(3) };
}

/** Parses the SGX extension of a PCK certificate. Throws CERT_MALFORMED when absent or malformed. */
export function parsePckExtension(certificate: Certificate, path = 'pck'): PckExtension {
  const extension = certificate.extensions.get(SGX_EXTENSION_OID);
  const extPath = `${path}/sgxExtension`;
  if (extension === undefined) {
    throw new VeriteeError(ErrorCode.CERT_MALFORMED, 'PCK certificate has no Intel SGX extension', {
      path: extPath,
      details: `missing ${SGX_EXTENSION_OID} in "${certificate.subject}"`,
    });
  }
  try {
    const map = members(parseDer(extension.value, extPath), extPath);
    const sgxTypeValue = readEnumerated(required(map, OID.sgxType, extPath), `${extPath}/sgxType`);
    const sgxType = SGX_TYPES[sgxTypeValue];
    if (sgxType === undefined) throw malformed(`unknown SGX type ${sgxTypeValue}`, `${extPath}/sgxType`);
    const instance = map.get(OID.platformInstanceId);
    const configuration = map.get(OID.configuration);
    return {
      ppid: octets(required(map, OID.ppid, extPath), `${extPath}/ppid`, 16),
      ...parseTcb(required(map, OID.tcb, extPath), `${extPath}/tcb`),
      pceId: octets(required(map, OID.pceId, extPath), `${extPath}/pceId`, 2),
      fmspc: octets(required(map, OID.fmspc, extPath), `${extPath}/fmspc`, 6),
      sgxType,
      platformInstanceId:
        instance === undefined ? undefined : octets(instance, `${extPath}/platformInstanceId`, 16),
      configuration:
        configuration === undefined
          ? undefined
          : parseConfiguration(configuration, `${extPath}/configuration`),
    };
  } catch (error) {
    if (error instanceof VeriteeError && error.code !== ErrorCode.CERT_MALFORMED) {
      throw new VeriteeError(ErrorCode.CERT_MALFORMED, `malformed SGX extension: ${error.shortMessage}`, {
        path: error.path,
        offset: error.offset,
      });
    }
    throw error;
  }
}

/** The certificate's subject common name; CERT_MALFORMED unless there is exactly one. */
export function commonNameOf(certificate: Certificate, path: string): string {
  const names: string[] = [];
  const subject = parseDer(certificate.subjectDer, path);
  for (const rdn of children(expectTag(subject, Tag.SEQUENCE, path), path)) {
    for (const attribute of children(expectTag(rdn, Tag.SET, path), path)) {
      const [type, value] = sequence(attribute, path);
      if (readOid(type, path) === '2.5.4.3') names.push(readString(value, path));
    }
  }
  if (names.length !== 1) {
    throw malformed(`certificate "${certificate.subject}" must have exactly one common name`, path);
  }
  return names[0]!;
}

/** Intel PKI common names ("SGX PCK Certificate and CRL Profile", certificate hierarchy). */
export const IntelName = {
  root: 'Intel SGX Root CA',
  pckPlatformCa: 'Intel SGX PCK Platform CA',
  pckProcessorCa: 'Intel SGX PCK Processor CA',
  pck: 'Intel SGX PCK Certificate',
  tcbSigning: 'Intel SGX TCB Signing',
} as const;

/** Throws CHAIN_BROKEN unless the certificate's common name is one of `allowed`. */
export function expectCommonName(certificate: Certificate, allowed: readonly string[], path: string): string {
  const name = commonNameOf(certificate, path);
  if (!allowed.includes(name)) {
    throw new VeriteeError(ErrorCode.CHAIN_BROKEN, `certificate "${name}" cannot play this role`, {
      path,
      details: `expected ${allowed.map((a) => `"${a}"`).join(' or ')}`,
    });
  }
  return name;
}

export function fmspcHex(extension: PckExtension): string {
  return toHex(extension.fmspc);
}
