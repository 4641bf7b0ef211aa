/** `veritee connect <url>`: verify the enclave, open the attested channel, send one message, print the reply. */
import { utf8Decode } from '../bytes.js';
import { ErrorCode, isVeriteeError, VeriteeError } from '../errors.js';
import type { TrustAnchor } from '../pki/chain.js';
import { DEFAULT_POLICY } from '../policy/parse.js';
import { DEFAULT_PLATFORMS, type Policy } from '../policy/types.js';
import type { AttestationResult } from '../result.js';
import { connectEnclave } from '../runtime/client.js';
import { simulatorAnchor, simulatorAnchorFromPem, simulatorDir } from '../runtime/sim/store.js';
import { EXIT, readInput } from './io.js';
import { formatReport } from './report.js';
import type { CommandOutput } from './verify-command.js';
import { loadPolicyFile } from './verify-command.js';

export interface ConnectCommandOptions {
  readonly policy?: string;
  readonly trustSim?: boolean;
  readonly simDir?: string;
  readonly simRoot?: string;
  readonly send?: string;
  readonly json?: boolean;
  readonly timeout?: string;
}

/** Codes that mean "the enclave did not prove itself": exit 1. Others (bad arguments) exit 2. */
const REJECTIONS = new Set<string>([
  ErrorCode.CHANNEL_EVIDENCE_REJECTED,
  ErrorCode.CHANNEL_BINDING_MISMATCH,
  ErrorCode.CHANNEL_HANDSHAKE_FAILED,
  ErrorCode.CHANNEL_DECRYPT_FAILED,
  ErrorCode.CHANNEL_PROTOCOL,
  ErrorCode.CHANNEL_TRUNCATED,
  ErrorCode.CHANNEL_CLOSED,
  ErrorCode.CHANNEL_TIMEOUT,
  ErrorCode.CHANNEL_MESSAGE_TOO_LARGE,
]);

async function simulatorRoots(options: ConnectCommandOptions, policy: Policy): Promise<TrustAnchor[]> {
  const wanted = options.trustSim === true || (policy.platforms ?? []).includes('sim');
  if (!wanted) return [];
  if (options.simRoot !== undefined) {
    return [
      await simulatorAnchorFromPem(utf8Decode(readInput(options.simRoot, 'simulator root')), options.simRoot),
    ];
  }
  return [await simulatorAnchor(options.simDir ?? simulatorDir())];
}

function effectivePolicy(options: ConnectCommandOptions): Policy {
  const policy = options.policy === undefined ? DEFAULT_POLICY : loadPolicyFile(options.policy).policy;
  if (!options.trustSim) return policy;
  const platforms = policy.platforms ?? DEFAULT_PLATFORMS;
  return platforms.includes('sim') ? policy : { ...policy, platforms: [...platforms, 'sim'] };
}

function parseTimeout(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,7}$/.test(text) || Number(text) < 1) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `--timeout must be milliseconds, got "${text}"`);
  }
  return Number(text);
}

export async function runConnect(
  url: string | undefined,
  options: ConnectCommandOptions,
): Promise<CommandOutput> {
  if (url === undefined) throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, 'missing enclave URL');
  if (options.send === undefined)
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--send <text> is required');
  if (!/^(https?|wss?|tcp):\/\//.test(url)) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, `unsupported URL "${url}"`, {
      details: 'use http(s)://host:port, ws(s)://host:port/channel or tcp://host:port',
    });
  }
  const policy = effectivePolicy(options);
  const roots = await simulatorRoots(options, policy);
  const handshakeTimeoutMs = parseTimeout(options.timeout);
  try {
    const channel = await connectEnclave(url, { policy, simulatorRoots: roots, handshakeTimeoutMs });
    channel.send(options.send);
    const reply = await channel.receive();
    channel.close();
    if (reply === undefined)
      throw new VeriteeError(ErrorCode.CHANNEL_CLOSED, 'the enclave closed without replying');
    const result = channel.peerEvidence!;
    const text = new TextDecoder().decode(reply);
    if (options.json) {
      return {
        stdout: `${JSON.stringify({ accepted: true, reply: text, result })}\n`,
        stderr: '',
        exitCode: EXIT.accepted,
      };
    }
    const banner = result.platform === 'sim' ? ' — SIMULATOR, NOT REAL HARDWARE' : '';
    return {
      stdout: `${text}\n`,
      stderr: `veritee connect: verified ${result.platform}${banner} (${result.verdict}); reply over the attested channel:\n`,
      exitCode: EXIT.accepted,
    };
  } catch (error) {
    if (!isVeriteeError(error) || !REJECTIONS.has(error.code)) throw error;
    const result = error.cause as AttestationResult | undefined;
    if (options.json) {
      const body = { accepted: false, error: error.toJSON(), result };
      return { stdout: `${JSON.stringify(body)}\n`, stderr: '', exitCode: EXIT.rejected };
    }
    const report =
      result !== undefined && typeof result === 'object' && 'verdict' in result
        ? formatReport(result, false)
        : '';
    return {
      stdout: '',
      stderr: `veritee connect: REJECTED: ${error.code}: ${error.message}\n${report}`,
      exitCode: EXIT.rejected,
    };
  }
}
