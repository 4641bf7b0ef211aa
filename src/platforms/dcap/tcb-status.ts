/**
 * Intel's TCB status values (the `tcbStatus` of TCB Info and QE Identity levels), in a module of their
 * own so the `tcb` policy parser can check them without loading the collateral parser.
 */
export const TCB_STATUSES = [
  'UpToDate',
  'SWHardeningNeeded',
  'ConfigurationNeeded',
  'ConfigurationAndSWHardeningNeeded',
  'OutOfDate',
  'OutOfDateConfigurationNeeded',
  'Revoked',
] as const;
export type TcbStatus = (typeof TCB_STATUSES)[number];

export function isTcbStatus(value: unknown): value is TcbStatus {
  return typeof value === 'string' && (TCB_STATUSES as readonly string[]).includes(value);
}
