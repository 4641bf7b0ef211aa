/**
 * The handshake payloads of the attested channel (Noise_XX: → e; ← e, ee, s, es; → s, se).
 *
 *   message 1 payload (cleartext)  ClientHello   version(1) ‖ flags(1)
 *   message 2 payload (encrypted)  ServerHello   version(1) ‖ flags(1) ‖ evidenceLength(u32 BE) ‖ evidence
 *   message 3 payload (encrypted)  ClientFinish  version(1) ‖ flags(1) ‖ evidenceLength(u32 BE) ‖ evidence
 *
 * flags: ClientHello bit 0 = the client can attest itself; ServerHello bit 0 = the server requires client
 * evidence; ClientFinish bit 0 = evidence present. Unknown flag bits and trailing bytes are refused.
 */
import { ByteReader } from '../bytes.js';
import { ErrorCode, VeriteeError } from '../errors.js';

export const CHANNEL_VERSION = 1;
const FLAG_ATTEST = 0x01;
/** Evidence must fit a Noise message with its 32+48+16 bytes of keys and tags and the 6-byte header. */
export const MAX_EVIDENCE_LENGTH = 65535 - 32 - 48 - 16 - 6;

export interface ClientHello {
  readonly canAttest: boolean;
}

export interface ServerHello {
  readonly requireClientEvidence: boolean;
  readonly evidence: Uint8Array;
}

export interface ClientFinish {
  readonly evidence: Uint8Array | undefined;
}

function toProtocolError(error: unknown, what: string): VeriteeError {
  if (error instanceof VeriteeError && error.code.startsWith('CHANNEL_')) return error;
  const message = error instanceof VeriteeError ? error.message : String(error);
  return new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, `malformed ${what}`, { details: message });
}

function readHeader(reader: ByteReader, allowedFlags: number): number {
  const version = reader.u8('version');
  if (version !== CHANNEL_VERSION) {
    throw new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, `unsupported channel version ${version}`, {
      details: `this side speaks version ${CHANNEL_VERSION}`,
    });
  }
  const flags = reader.u8('flags');
  if ((flags & ~allowedFlags) !== 0) {
    throw new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, `unknown flag bits 0x${flags.toString(16)}`);
  }
  return flags;
}

function writeWithEvidence(flags: number, evidence: Uint8Array | undefined): Uint8Array {
  const length = evidence?.length ?? 0;
  if (length > MAX_EVIDENCE_LENGTH) {
    throw new VeriteeError(
      ErrorCode.CHANNEL_MESSAGE_TOO_LARGE,
      'evidence too large for one handshake message',
      {
        details: `${length} bytes, at most ${MAX_EVIDENCE_LENGTH}`,
      },
    );
  }
  const out = new Uint8Array(6 + length);
  out[0] = CHANNEL_VERSION;
  out[1] = flags;
  new DataView(out.buffer).setUint32(2, length, false);
  if (evidence !== undefined) out.set(evidence, 6);
  return out;
}

function readEvidence(reader: ByteReader): Uint8Array {
  const length = reader.u32be('evidenceLength');
  if (length > MAX_EVIDENCE_LENGTH) {
    throw new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, `evidence length ${length} over the limit`);
  }
  return reader.take(length, 'evidence');
}

export function encodeClientHello(hello: ClientHello): Uint8Array {
  return Uint8Array.of(CHANNEL_VERSION, hello.canAttest ? FLAG_ATTEST : 0);
}

export function decodeClientHello(bytes: Uint8Array): ClientHello {
  try {
    const reader = new ByteReader(bytes, 'clientHello');
    const flags = readHeader(reader, FLAG_ATTEST);
    reader.finish();
    return { canAttest: (flags & FLAG_ATTEST) !== 0 };
  } catch (error) {
    throw toProtocolError(error, 'ClientHello');
  }
}

export function encodeServerHello(hello: ServerHello): Uint8Array {
  return writeWithEvidence(hello.requireClientEvidence ? FLAG_ATTEST : 0, hello.evidence);
}

export function decodeServerHello(bytes: Uint8Array): ServerHello {
  try {
    const reader = new ByteReader(bytes, 'serverHello');
    const flags = readHeader(reader, FLAG_ATTEST);
    const evidence = readEvidence(reader);
    reader.finish();
    if (evidence.length === 0) throw new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, 'server sent no evidence');
    return { requireClientEvidence: (flags & FLAG_ATTEST) !== 0, evidence };
  } catch (error) {
    throw toProtocolError(error, 'ServerHello');
  }
}

export function encodeClientFinish(finish: ClientFinish): Uint8Array {
  return writeWithEvidence(finish.evidence === undefined ? 0 : FLAG_ATTEST, finish.evidence);
}

export function decodeClientFinish(bytes: Uint8Array): ClientFinish {
  try {
    const reader = new ByteReader(bytes, 'clientFinish');
    const flags = readHeader(reader, FLAG_ATTEST);
    const evidence = readEvidence(reader);
    reader.finish();
    const present = (flags & FLAG_ATTEST) !== 0;
    if (present !== evidence.length > 0) {
      throw new VeriteeError(ErrorCode.CHANNEL_PROTOCOL, 'evidence flag does not match the evidence length');
    }
    return { evidence: present ? evidence : undefined };
  } catch (error) {
    throw toProtocolError(error, 'ClientFinish');
  }
}
