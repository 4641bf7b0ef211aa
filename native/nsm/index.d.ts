/** One raw NSM request: opens `device`, issues NSM_IOCTL_RAW, resolves with the response bytes. */
export function request(device: string, request: Uint8Array): Promise<Uint8Array>;
/** NSM_REQUEST_MAX_SIZE (include/uapi/linux/nsm.h): 0x1000. */
export const REQUEST_MAX_SIZE: number;
/** NSM_RESPONSE_MAX_SIZE: 0x3000, the response buffer the addon hands to the driver. */
export const RESPONSE_MAX_SIZE: number;
/** NSM_IOCTL_RAW = _IOWR(0x0A, 0, struct nsm_raw) as compiled: 0xc0200a00. */
export const IOCTL_RAW: number;
