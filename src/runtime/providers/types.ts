/** The evidence provider interface: one per way a TEE hands out evidence. */
import type { EvidenceSource, ProvidedEvidence } from '../../channel/types.js';

export type ProviderName = 'tsm' | 'dstack' | 'gramine' | 'nitro' | 'sim';
export const PROVIDER_NAMES: readonly ProviderName[] = ['tsm', 'dstack', 'gramine', 'nitro', 'sim'];

export interface EvidenceProvider extends EvidenceSource {
  readonly name: ProviderName;
  /** True for the simulator: its evidence is never real hardware. */
  readonly simulated: boolean;
  getEvidence(reportData: Uint8Array): Promise<ProvidedEvidence & { readonly auxiliary?: Uint8Array }>;
}

export type { EvidenceSource, ProvidedEvidence };
