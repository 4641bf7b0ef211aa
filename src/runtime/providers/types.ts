/** The evidence provider interface: one per way a TEE hands out evidence. */
import type { EvidenceSource, ProvidedEvidence } from '../../channel/types.js';

export type ProviderName = 'tsm' | 'dstack' | 'gramine' | 'nitro' | 'sim';
export const PROVIDER_NAMES: readonly ProviderName[] = ['tsm', 'dstack', 'gramine', 'nitro', 'sim'];

export interface EvidenceProvider extends EvidenceSource {
  readonly name: ProviderName;
  /** True for the simulator: its evidence is never real hardware. */
  readonly simulated: boolean;
  getEvidence(reportData: Uint8Array): Promise<ProvidedEvidence & { readonly auxiliary?: Uint8Array }>;
  /**
   * Endorsements a verifier needs that do not travel in the evidence, as JSON bytes in a shape `verify`'s
   * `collateral` accepts (the TDX simulator: its DCAP collateral as dcap-qvl JSON). Absent when there are
   * none. Untrusted like any collateral: the verifier checks its signatures up to its own anchors.
   */
  collateral?(): Promise<Uint8Array>;
}

export type { EvidenceSource, ProvidedEvidence };
