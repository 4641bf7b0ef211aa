/** Shapes shared by the channel (browser-safe) and the runtime providers (Node). */

/** Where the TEE's evidence comes from: one call per report_data value. */
export interface EvidenceSource {
  /**
   * Evidence whose report data (TDX/SNP/SGX `report_data`, Nitro `user_data`) is exactly `reportData`
   * (64 bytes). Throws a VeriteeError (PROVIDER_*) when the platform cannot produce it.
   */
  getEvidence(reportData: Uint8Array): Promise<ProvidedEvidence>;
}

export interface ProvidedEvidence {
  /** The raw evidence bytes, as `verify` takes them. */
  readonly evidence: Uint8Array;
  /** The platform that produced it (`sim` for the simulator). */
  readonly platform: string;
}
