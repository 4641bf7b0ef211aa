/** Test wiring for the channel: a simulator root in a temp dir, an echo server over TCP. */
import { mkdtempSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backend } from '#crypto';
import { acceptChannel, type ServerOptions } from '../../src/channel/channel.js';
import type { FrameLink } from '../../src/channel/link.js';
import type { EvidenceSource } from '../../src/channel/types.js';
import type { TrustAnchor } from '../../src/pki/chain.js';
import { simulatorProvider } from '../../src/runtime/providers/sim.js';
import { simulatorAnchor } from '../../src/runtime/sim/store.js';
import { listenTcp } from '../../src/runtime/tcp.js';
import { loadPolicy } from '../../src/verify.js';

export const SIM_POLICY = loadPolicy({ platforms: ['sim'] });

export interface SimSetup {
  readonly dir: string;
  readonly provider: EvidenceSource;
  readonly anchor: TrustAnchor;
}

export async function simSetup(): Promise<SimSetup> {
  const dir = mkdtempSync(join(tmpdir(), 'veritee-sim-'));
  const provider = simulatorProvider({ dir, warn: () => {} });
  return { dir, provider, anchor: await simulatorAnchor(dir) };
}

export interface EchoServer {
  readonly server: Server;
  readonly port: number;
  readonly errors: unknown[];
  close(): Promise<void>;
}

/** Accepts channels and echoes every message until the client closes. */
export async function echoServer(
  options: Omit<ServerOptions, 'staticKeyPair'> & { staticKeyPair?: ServerOptions['staticKeyPair'] },
  wrap?: (link: FrameLink) => FrameLink,
): Promise<EchoServer> {
  const staticKeyPair = options.staticKeyPair ?? backend.x25519Generate();
  const errors: unknown[] = [];
  const server = await listenTcp(0, '127.0.0.1', async (link) => {
    try {
      const channel = await acceptChannel(wrap ? wrap(link) : link, { ...options, staticKeyPair });
      for await (const message of channel) channel.send(message);
      channel.close();
    } catch (error) {
      errors.push(error);
    }
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    errors,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
