/** `veritee/runtime`: the enclave side (Node): evidence providers, the simulator, the app server. */

/** Whether the node backend runs the channel on the veritee-evp addon, and if not, why (docs/channel.md). */
export { type EvpStatus, evpStatus } from '../crypto/node-evp.js';
export { connectEnclave } from './client.js';
export * from './providers/index.js';
export {
  createEnclaveServer,
  type EnclaveHandler,
  type EnclaveServer,
  type EnclaveServerOptions,
  type RequestContext,
} from './server.js';
export {
  loadSimulatorRoot,
  simulatorAnchor,
  simulatorAnchorFromPem,
  simulatorAnchors,
  simulatorAnchorsFromPem,
  simulatorDir,
} from './sim/store.js';
export {
  type SimulatedCollateralJson,
  type SimulatedCollateralOptions,
  type SimulatedTdMeasurements,
  SimulatedTdx,
} from './sim/tdx.js';
export { loadSimulatedIntelPki, SIM_FMSPC, type SimulatedIntelPki } from './sim/tdx-pki.js';
export { connectTcp, listenTcp, tcpLink } from './tcp.js';
