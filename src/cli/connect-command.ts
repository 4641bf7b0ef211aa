/** `veritee connect <url>`: verify the enclave, open the attested channel, send one message, print the reply. */
import { fetchEnclaveCollateral } from '../channel/client.js';
import { ErrorCode, isVeriteeError, VeriteeError } from '../errors.js';
import { DEFAULT_POLICY } from '../policy/parse.js';
import type { Policy } from '../policy/types.js';
import type { AttestationResult } from '../result.js';
import { connectEnclave } from '../runtime/client.js';
import { EXIT } from './io.js';
import { formatReport } from './report.js';
import { type SimTrustOptions, simulatorRootsFor, withSimPlatform } from './sim-trust.js';
import type { CommandOutput } from './verify-command.js';
import { loadPolicyFile } from './verify-command.js';

export interface ConnectCommandOptions extends SimTrustOptions {
  readonly policy?: string;
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

function effectivePolicy(options: ConnectCommandOptions): Policy {
  const policy = options.policy === undefined ? DEFAULT_POLICY : loadPolicyFile(options.policy).policy;
  return withSimPlatform(policy, options);
}

/**
 * The server's collateral (`GET /collateral`: the TDX simulator's), for http(s) URLs. A server that
 * serves none, or cannot be reached, gives none (verification then fails closed, or the channel reports
 * the connection); one that serves unusable collateral is rejected.
 */
async function serverCollateral(url: string): Promise<unknown> {
  if (!/^https?:\/\//.test(url)) return undefined;
  try {
    return await fetchEnclaveCollateral(url);
  } catch (error) {
    if (!isVeriteeError(error)) return undefined;
    throw new VeriteeError(ErrorCode.CHANNEL_EVIDENCE_REJECTED, "the server's collateral is unusable", {
      details: error.message,
    });
  }
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
  const roots = await simulatorRootsFor(options, policy);
  const handshakeTimeoutMs = parseTimeout(options.timeout);
  try {
    const collateral = await serverCollateral(url);
    const channel = await connectEnclave(url, {
      policy,
      simulatorRoots: roots,
      collateral,
      handshakeTimeoutMs,
    });
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
