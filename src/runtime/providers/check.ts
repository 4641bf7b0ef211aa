import { ErrorCode, VeriteeError } from '../../errors.js';

/** Every provider takes exactly 64 bytes of report data (the TDX/SNP/SGX field size). */
export function checkReportData(reportData: Uint8Array): Uint8Array {
  if (!(reportData instanceof Uint8Array) || reportData.length !== 64) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'report data must be exactly 64 bytes', {
      details: `got ${reportData instanceof Uint8Array ? `${reportData.length} bytes` : typeof reportData}`,
    });
  }
  return reportData;
}

export function unavailable(provider: string, message: string, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.PROVIDER_UNAVAILABLE, `${provider}: ${message}`, { details });
}

export function failed(provider: string, message: string, details?: string): VeriteeError {
  return new VeriteeError(ErrorCode.PROVIDER_FAILED, `${provider}: ${message}`, { details });
}

export function errnoOf(error: unknown): string {
  return (
    (error as NodeJS.ErrnoException)?.code ?? (error instanceof Error ? error.message.slice(0, 120) : 'error')
  );
}
