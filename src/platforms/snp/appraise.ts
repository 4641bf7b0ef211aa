/**
 * Appraisal of the `snp` policy section (`policy.ts`): a pure function of verified SEV-SNP claims and the
 * policy. Every check runs; each failed one is reported with the field, the value found and the value wanted.
 *
 * Every key is optional and an unset key is not checked. The common checks (measurement allow-list under
 * `policy.measurements.measurement`, debug off unless `allowDebug`, report-data binding under
 * `policy.reportData`) are made by the generic appraiser from the common claims, not here.
 *
 * Does not check: signatures, certificates, or the binding of the VCEK to the report (`verify.ts`).
 */
import { ErrorCode, VeriteeError } from '../../errors.js';
import type { Policy } from '../../policy/types.js';
import type { Check, VerifiedEvidence } from '../../result.js';
import type { PlatformAppraisal } from '../types.js';
import { type PolicyBitName, parseSnpPolicy, type TcbFloor, type TcbRequirement } from './policy.js';
import { PRODUCTS, type Product, TCB_COMPONENTS, type TcbVersion, tcbComponentsBelow } from './tcb.js';
import type { SnpClaims } from './verify.js';

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
