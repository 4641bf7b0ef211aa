/**
 * `veritee kms drill`: the failure drill, with every node a separate process on 127.0.0.1.
 *
 *  1. start n nodes; register an app (t-of-n, a release policy: platform sim, the example app's PCRs)
 *  2. a simulated enclave creates the app key
 *  3. recovery while `kill` nodes are killed with SIGKILL after issuing their nonces → still succeeds
 *  4. restart every node → every node still returns a valid share (no share lost)
 *  5. one node restarted without the simulator root → it refuses (KMS_POLICY_REJECTED, audited); the
 *     others still release
 *  6. corrupt one node's stored share on disk → detected (KMS_SHARE_CORRUPT), recovery succeeds
 *  7. only t−1 nodes up → a clear KMS_NOT_ENOUGH_SHARES
 *  8. evidence of an unapproved measurement → every node refuses (KMS_POLICY_REJECTED), audited
 *  9. every node's audit log is a valid signed hash chain
 *
 * Evidence comes from the project's simulator (sim-enclave.ts) with a root made for this run in its
 * temporary directory, so runs are isolated; the nodes trust it only through `--trust-sim`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatBytes, toHex, utf8Encode } from '../../bytes.js';
import { ErrorCode, VeriteeError } from '../../errors.js';
import { verifyAuditChain } from '../audit.js';
import { KmsClient } from '../client.js';
import { fromB64u, parseJsonText } from '../codec.js';
import { ed25519Generate } from '../crypto.js';
import { publishPolicy } from '../owner.js';
import { tableNames } from '../store.js';
import { exampleAppBytes } from './example-app.js';
import { openPostgres } from './postgres.js';
import { NodeProcess } from './processes.js';
import { simulatedApp } from './sim-enclave.js';
import { openSqlite } from './sqlite.js';

export interface DrillOptions {
  readonly nodes: number;
  readonly threshold: number;
  readonly kill: number;
  /** `sqlite` (default) or a postgres:// URL. */
  readonly store?: string;
  readonly print: (line: string) => void;
}

export const APP_ID = 'drill-app';

interface Step {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

function checkOptions(options: DrillOptions): void {
  const { nodes, threshold, kill } = options;
  if (!Number.isInteger(nodes) || nodes < 2 || nodes > 16) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--nodes must be 2–16');
  }
  // The corrupted-share and untrusting-node steps must still recover: at least one node to spare.
  if (!Number.isInteger(threshold) || threshold < 2 || threshold >= nodes) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--threshold must be 2–(nodes−1)');
  }
  if (!Number.isInteger(kill) || kill < 0 || nodes - kill < threshold) {
    throw new VeriteeError(ErrorCode.ARGUMENT_INVALID, '--kill must leave at least threshold nodes');
  }
}

export async function runDrill(options: DrillOptions): Promise<boolean> {
  checkOptions(options);
  const { print } = options;
  const steps: Step[] = [];
  const record = (name: string, ok: boolean, detail: string) => {
    steps.push({ name, ok, detail });
    print(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail === '' ? '' : ` — ${detail}`}`);
  };
  const work = mkdtempSync(join(tmpdir(), 'veritee-kms-drill-'));
  const appBytes = exampleAppBytes();
  const sim = simulatedApp({ simDir: join(work, 'sim'), appBytes, warn: print });
  const nodes = Array.from(
    { length: options.nodes },
    (_, index) =>
      new NodeProcess({
        dir: join(work, `node${index}`),
        store: options.store,
        trustSim: [sim.rootCertificatePath],
      }),
  );
  const storeKind = options.store?.startsWith('postgres') ? 'postgres' : 'sqlite';
  print(
    `drill: ${options.nodes} node processes, threshold ${options.threshold}, kill ${options.kill}, store ${storeKind}`,
  );
  print(
    `drill: simulator root made for this run, trusted by the nodes with --trust-sim ${sim.rootCertificatePath}`,
  );
  try {
    await Promise.all(nodes.map((node) => node.start()));
    record('start nodes', true, nodes.map((node) => `${node.id.slice(0, 8)}@${node.port}`).join(' '));

    const owner = ed25519Generate();
    const urls = () => nodes.map((node) => node.url);
    await publishPolicy({
      appId: APP_ID,
      ownerSeed: owner.seed,
      policy: sim.releasePolicy,
      threshold: options.threshold,
      nodes: urls(),
    });
    record(
      'register app',
      true,
      `${options.threshold}-of-${options.nodes}, platform sim, pcr0 ${sim.pcr0.slice(0, 16)}…`,
    );

    const client = (image?: Uint8Array, onAttest?: () => Promise<void>) => {
      const attest = sim.attester(image);
      return new KmsClient({
        appId: APP_ID,
        nodes: urls(),
        timeoutMs: 30_000,
        attest: async (reportData) => {
          await onAttest?.();
          return attest(reportData);
        },
      });
    };

    const created = await client().create();
    const fingerprint = toHex(created.signingKey().publicKey);
    record(
      'create key in the enclave',
      true,
      `epoch ${created.epoch}, kcv ${created.record.kcv.slice(0, 16)}…`,
    );

    // 3. kill -9 during recovery: after the nonce round, before the share requests.
    const victims = nodes.slice(0, options.kill);
    const during = await client(undefined, async () => {
      await Promise.all(victims.map((node) => node.kill()));
    }).recover();
    const sameAfterKill = toHex(during.key.signingKey().publicKey) === fingerprint;
    record(
      `kill -9 ${victims.length} node(s) during recovery`,
      sameAfterKill && during.valid.length === options.nodes - victims.length,
      `recovered from ${during.valid.length} nodes; ${during.failures.length} unavailable`,
    );

    // 4. restart everything: no share lost.
    await Promise.all(nodes.map((node) => node.stop()));
    await Promise.all(nodes.map((node) => node.start()));
    const afterRestart = await client().recover();
    record(
      'restart every node: no share lost',
      afterRestart.valid.length === options.nodes &&
        toHex(afterRestart.key.signingKey().publicKey) === fingerprint,
      `${afterRestart.valid.length}/${options.nodes} valid shares`,
    );

    // 5. a node restarted without the simulator root refuses simulator evidence; the others release.
    const skeptic = nodes[0]!;
    await skeptic.stop();
    await skeptic.start([]);
    const withSkeptic = await client()
      .recover()
      .catch(() => undefined);
    const skepticAudit = (await fetchAudit(skeptic)).at(-1) as { type?: string; code?: string } | undefined;
    const skepticRefused =
      skepticAudit?.type === 'share.refused' && skepticAudit.code === ErrorCode.KMS_POLICY_REJECTED;
    const behaved =
      withSkeptic !== undefined &&
      toHex(withSkeptic.key.signingKey().publicKey) === fingerprint &&
      withSkeptic.failures.some(
        (failure) => failure.node === skeptic.url && failure.code === ErrorCode.KMS_POLICY_REJECTED,
      );
    record(
      'node without the simulator root',
      behaved && skepticRefused,
      `${skeptic.id.slice(0, 8)} ${skepticRefused ? 'refused (KMS_POLICY_REJECTED, audited)' : 'did NOT refuse'}; ${
        withSkeptic === undefined
          ? 'recovery failed'
          : `recovered from the ${withSkeptic.valid.length} that trust it`
      }`,
    );
    await skeptic.stop();
    await skeptic.start();

    // 6. corrupt one node's stored share.
    const target = nodes[nodes.length - 1]!;
    await corruptShare(target, options.store);
    const afterCorrupt = await client().recover();
    const detected = afterCorrupt.failures.some(
      (failure) => failure.node === target.url && failure.code === ErrorCode.KMS_SHARE_CORRUPT,
    );
    record(
      'corrupt one stored share',
      detected && toHex(afterCorrupt.key.signingKey().publicKey) === fingerprint,
      `${detected ? 'detected KMS_SHARE_CORRUPT at' : 'NOT detected at'} ${target.id.slice(0, 8)}; recovered from ${afterCorrupt.valid.length}`,
    );

    // 7. fewer than t nodes.
    const down = nodes.slice(0, options.nodes - options.threshold + 1);
    await Promise.all(down.map((node) => node.kill()));
    const few = await client()
      .recover()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    record(
      `only ${options.threshold - 1} node(s) up`,
      few instanceof VeriteeError && few.code === ErrorCode.KMS_NOT_ENOUGH_SHARES,
      few instanceof VeriteeError ? `${few.code}: ${few.shortMessage}` : 'recovery unexpectedly succeeded',
    );
    await Promise.all(down.map((node) => node.start()));

    // 8. unapproved measurement: the example app with one line changed.
    const refused = await client(concatBytes(appBytes, utf8Encode('\n// an unapproved change\n')))
      .recover()
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    const audits = await Promise.all(nodes.map((node) => fetchAudit(node)));
    const everyRefused = audits.every(
      (entries) => (entries.at(-1) as { code?: string } | undefined)?.code === ErrorCode.KMS_POLICY_REJECTED,
    );
    record(
      'unapproved measurement',
      refused instanceof VeriteeError && refused.code === ErrorCode.KMS_NOT_ENOUGH_SHARES && everyRefused,
      everyRefused
        ? `refused by all ${nodes.length} nodes (KMS_POLICY_REJECTED, audited)`
        : 'not refused and audited everywhere',
    );

    // 9. audit logs.
    let entries = 0;
    for (const [index, node] of nodes.entries()) {
      const identity = (await (await fetch(`${node.url}/v1/node`)).json()) as { signingPublicKey: string };
      entries += verifyAuditChain(
        audits[index]!,
        fromB64u(identity.signingPublicKey, 'signingPublicKey'),
      ).entries;
    }
    record('audit logs verify', true, `${entries} entries, hash chains and signatures good at every node`);
  } catch (error) {
    record('drill', false, error instanceof Error ? error.message : String(error));
  } finally {
    await Promise.all(nodes.map((node) => node.kill()));
    rmSync(work, { recursive: true, force: true });
  }
  const ok = steps.every((step) => step.ok);
  print(
    ok ? `drill passed: ${steps.length} steps` : `drill FAILED: ${steps.filter((s) => !s.ok).length} step(s)`,
  );
  return ok;
}

async function fetchAudit(node: NodeProcess): Promise<unknown[]> {
  const response = await fetch(`${node.url}/v1/audit?limit=10000`);
  return ((await response.json()) as { entries: unknown[] }).entries;
}

/** Flips one character of the node's stored (sealed) share, straight in its database. */
async function corruptShare(node: NodeProcess, store: string | undefined): Promise<void> {
  const postgres = store !== undefined && /^postgres(ql)?:\/\//.test(store);
  const driver = postgres ? openPostgres(store!) : openSqlite(join(node.options.dir, 'kms.sqlite'));
  const table = tableNames(postgres ? `n${node.id.slice(0, 16)}` : '').epoch;
  try {
    const { rows } = await driver.run(`SELECT share FROM ${table} WHERE app_id = ? AND epoch = 1`, [APP_ID]);
    const share = parseJsonText(String(rows[0]?.share), 'share') as { ct: string };
    const middle = Math.floor(share.ct.length / 2);
    share.ct = `${share.ct.slice(0, middle)}${share.ct[middle] === 'A' ? 'B' : 'A'}${share.ct.slice(middle + 1)}`;
    await driver.run(`UPDATE ${table} SET share = ? WHERE app_id = ? AND epoch = 1`, [
      JSON.stringify(share),
      APP_ID,
    ]);
  } finally {
    await driver.close();
  }
}
