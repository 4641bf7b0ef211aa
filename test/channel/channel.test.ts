/** The attested channel end to end over TCP, with simulator evidence and the simulator trust rules. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '#crypto';
import { utf8Decode } from '../../src/bytes.js';
import { bindingReportData } from '../../src/channel/binding.js';
import { connectChannel } from '../../src/channel/channel.js';
import { VeriteeError } from '../../src/errors.js';
import { toEar } from '../../src/policy/ear.js';
import type { AttestationResult } from '../../src/result.js';
import { connectTcp } from '../../src/runtime/tcp.js';
import { loadPolicy, verify } from '../../src/verify.js';
import { type EchoServer, echoServer, SIM_POLICY, type SimSetup, simSetup } from '../helpers/channel.js';

let sim: SimSetup;
let echo: EchoServer;

beforeAll(async () => {
  sim = await simSetup();
  echo = await echoServer({ evidence: sim.provider });
});
afterAll(async () => echo.close());

async function rejection(promise: Promise<unknown>): Promise<VeriteeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(VeriteeError);
    return error as VeriteeError;
  }
  throw new Error('expected a rejection');
}

describe('simulator evidence and trust rules', () => {
  it('verifies only as platform sim, and only when the simulator root is named', async () => {
    const reportData = new Uint8Array(64).fill(9);
    const { evidence, platform } = await sim.provider.getEvidence(reportData);
    expect(platform).toBe('sim');

    const untrusted = await verify(evidence);
    expect(untrusted.verdict).toBe('contraindicated');
    expect(untrusted.errors[0]?.code).toBe('CHAIN_UNTRUSTED_ROOT');

    const defaultPolicy = await verify(evidence, { simulatorRoots: [sim.anchor] });
    expect(defaultPolicy.verified).toBe(true);
    expect(defaultPolicy.platform).toBe('sim');
    expect(defaultPolicy.verdict).toBe('contraindicated');
    expect(defaultPolicy.checks.find((c) => c.id === 'policy.platform')?.ok).toBe(false);

    const accepted = await verify(evidence, { simulatorRoots: [sim.anchor], policy: SIM_POLICY });
    expect(accepted.verdict).toBe('affirming');
    expect(accepted.platform).toBe('sim');
    expect(accepted.claims.simulatedPlatform).toBe('nitro');
    expect(accepted.userData).toBe('09'.repeat(64));
    expect(accepted.debug).toBe(false);
    const ear = toEar(accepted) as Record<string, unknown>;
    expect(JSON.stringify(ear)).toContain('"hardware":97');
  });

  it('stays sim when the simulator root is passed as a vendor anchor by mistake', async () => {
    const { evidence } = await sim.provider.getEvidence(new Uint8Array(64));
    const asVendor = { name: 'mistake', certificate: sim.anchor.certificate };
    const result = await verify(evidence, {
      anchors: [asVendor],
      policy: loadPolicy({ platforms: ['nitro'] }),
    });
    expect(result.verified).toBe(true);
    expect(result.platform).toBe('sim');
    expect(result.verdict).toBe('contraindicated');
  });

  it('keeps the root key private (0600) and reuses the root across providers', async () => {
    const { statSync } = await import('node:fs');
    const { join } = await import('node:path');
    expect(statSync(join(sim.dir, 'nitro-root.key.pem')).mode & 0o777).toBe(0o600);
    const again = await simSetupSameDir(sim.dir);
    expect(again.certificate.fingerprint).toBe(sim.anchor.certificate.fingerprint);
  });
});

async function simSetupSameDir(dir: string) {
  const { simulatorAnchor } = await import('../../src/runtime/sim/store.js');
  return simulatorAnchor(dir);
}

describe('channel over TCP', () => {
  it('verifies the server, then carries messages both ways', async () => {
    const channel = await connectChannel(await connectTcp('127.0.0.1', echo.port), {
      simulatorRoots: [sim.anchor],
      policy: SIM_POLICY,
    });
    expect(channel.peerEvidence?.platform).toBe('sim');
    expect(channel.peerEvidence?.verdict).toBe('affirming');
    channel.send('hello enclave');
    expect(utf8Decode((await channel.receive())!)).toBe('hello enclave');
    const big = backend.randomBytes(1_000_000);
    channel.send(big);
    expect(await channel.receive()).toEqual(big);
    channel.send(new Uint8Array(0));
    expect(await channel.receive()).toEqual(new Uint8Array(0));
    channel.rekey();
    channel.send('after rekey');
    expect(utf8Decode((await channel.receive())!)).toBe('after rekey');
    channel.close();
  });

  it('rekeys automatically on both sides', async () => {
    const server = await echoServer({ evidence: sim.provider, rekeyInterval: 3 });
    try {
      const channel = await connectChannel(await connectTcp('127.0.0.1', server.port), {
        simulatorRoots: [sim.anchor],
        policy: SIM_POLICY,
        rekeyInterval: 2,
      });
      for (let i = 0; i < 20; i++) {
        channel.send(`message ${i}`);
        expect(utf8Decode((await channel.receive())!)).toBe(`message ${i}`);
      }
      channel.close();
    } finally {
      await server.close();
    }
  });

  it('rejects simulator evidence under the default policy, before any application data', async () => {
    const error = await rejection(
      connectChannel(await connectTcp('127.0.0.1', echo.port), { simulatorRoots: [sim.anchor] }),
    );
    expect(error.code).toBe('CHANNEL_EVIDENCE_REJECTED');
    expect((error.cause as AttestationResult).platform).toBe('sim');
  });

  it('rejects simulator evidence when the simulator root is not trusted', async () => {
    const error = await rejection(
      connectChannel(await connectTcp('127.0.0.1', echo.port), { policy: SIM_POLICY }),
    );
    expect(error.code).toBe('CHANNEL_EVIDENCE_REJECTED');
    expect((error.cause as AttestationResult).errors[0]?.code).toBe('CHAIN_UNTRUSTED_ROOT');
  });

  it('rejects a wrong measurement', async () => {
    const policy = loadPolicy({ platforms: ['sim'], measurements: { pcr0: 'ab'.repeat(48) } });
    const error = await rejection(
      connectChannel(await connectTcp('127.0.0.1', echo.port), { simulatorRoots: [sim.anchor], policy }),
    );
    expect(error.code).toBe('CHANNEL_EVIDENCE_REJECTED');
  });

  it('rejects evidence bound to another key', async () => {
    const otherKey = backend.x25519Generate();
    const server = await echoServer({
      evidence: {
        // Genuine (simulated) evidence, but for a key the server does not hold.
        getEvidence: () =>
          sim.provider.getEvidence(bindingReportData('server', otherKey.publicKey, new Uint8Array(64))),
      },
    });
    try {
      const error = await rejection(
        connectChannel(await connectTcp('127.0.0.1', server.port), {
          simulatorRoots: [sim.anchor],
          policy: SIM_POLICY,
        }),
      );
      expect(error.code).toBe('CHANNEL_BINDING_MISMATCH');
    } finally {
      await server.close();
    }
  });

  it('rejects evidence replayed from an earlier handshake (a reused nonce)', async () => {
    let first: Uint8Array | undefined;
    const staticKeyPair = backend.x25519Generate();
    const server = await echoServer({
      staticKeyPair,
      evidence: {
        async getEvidence(reportData) {
          const fresh = await sim.provider.getEvidence(reportData);
          first ??= fresh.evidence;
          return { evidence: first, platform: 'sim' };
        },
      },
    });
    try {
      const options = { simulatorRoots: [sim.anchor], policy: SIM_POLICY };
      const ok = await connectChannel(await connectTcp('127.0.0.1', server.port), options);
      ok.close();
      const error = await rejection(connectChannel(await connectTcp('127.0.0.1', server.port), options));
      expect(error.code).toBe('CHANNEL_BINDING_MISMATCH');
    } finally {
      await server.close();
    }
  });

  it('supports mutual attestation, and refuses a client that cannot attest', async () => {
    const server = await echoServer({
      evidence: sim.provider,
      clientVerification: { simulatorRoots: [sim.anchor], policy: SIM_POLICY },
    });
    try {
      const options = { simulatorRoots: [sim.anchor], policy: SIM_POLICY };
      const channel = await connectChannel(await connectTcp('127.0.0.1', server.port), {
        ...options,
        clientEvidence: sim.provider,
      });
      channel.send('mutual');
      expect(utf8Decode((await channel.receive())!)).toBe('mutual');
      channel.close();
      // A client without evidence: the server refuses after message 1, the client sees the link end.
      const error = await rejection(connectChannel(await connectTcp('127.0.0.1', server.port), options));
      expect(error.code).toBe('CHANNEL_TRUNCATED');
    } finally {
      await server.close();
    }
  });

  it('enforces the maximum message size on both ends', async () => {
    const channel = await connectChannel(await connectTcp('127.0.0.1', echo.port), {
      simulatorRoots: [sim.anchor],
      policy: SIM_POLICY,
      maxMessageSize: 1000,
    });
    expect(() => channel.send(new Uint8Array(1001))).toThrow(/maxMessageSize/);
    channel.close();
  });

  it('times out a server that never answers', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const error = await rejection(
      connectChannel(await connectTcp('127.0.0.1', port), { handshakeTimeoutMs: 200, policy: SIM_POLICY }),
    );
    expect(error.code).toBe('CHANNEL_TIMEOUT');
    silent.close();
  });
});
