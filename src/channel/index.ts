/** `veritee/channel`: the attested Noise channel (browser-safe). */
export {
  BINDING_LABELS,
  type BindingLabel,
  bindingReportData,
  boundDataOf,
  checkBinding,
  REPORT_DATA_LENGTH,
} from './binding.js';
export {
  AttestedChannel,
  acceptChannel,
  CHANNEL_PROLOGUE,
  CHANNEL_PROTOCOL,
  type ChannelOptions,
  type ClientOptions,
  connectChannel,
  type EvidenceVerification,
  type ServerOptions,
  verifyPeerEvidence,
} from './channel.js';
export {
  callEnclave,
  channelUrl,
  connectEnclave,
  type EnclaveClientOptions,
  fetchEnclaveCollateral,
  fetchEnclaveEvidence,
} from './client.js';
export {
  encodeFrame,
  FrameDecoder,
  type FrameLink,
  FrameQueue,
  joinParts,
  openWebSocket,
  type WebSocketLike,
  webSocketLink,
} from './link.js';
export { CHANNEL_VERSION, MAX_EVIDENCE_LENGTH } from './messages.js';
export {
  CipherState,
  type HandshakeOptions,
  type HandshakeResult,
  HandshakeState,
  NOISE_MAX_MESSAGE,
  parseProtocolName,
  SymmetricState,
} from './noise.js';
export {
  type FrameParts,
  MAX_RECORD_BODY,
  RECORD,
  RecordLayer,
  type RecordLayerOptions,
} from './records.js';
export {
  type EvidenceResponse,
  httpReportData,
  responseSigningInput,
  SIGNATURE_HEADER,
  type VerifiedEnclaveKeys,
  verifyResponseSignature,
} from './signed.js';
export type { EvidenceSource, ProvidedEvidence } from './types.js';
