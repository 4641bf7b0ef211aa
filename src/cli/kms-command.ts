/** `veritee kms …`: serve a key-management node, run the failure drill or the local demo, check an audit log. */

import { join } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, VeriteeError } from '../errors.js';
import { configDir } from '../server/config-dir.js';

function integer(value: string, option: string, min: number, max: number): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    throw new VeriteeError(
      ErrorCode.ARGUMENT_INVALID,
      `${option} must be an integer in [${min}, ${max}], got "${value}"`,
    );
  }
  return number;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerKmsCommands(program: Command): void {
  const kms = program.command('kms').description('threshold key management: nodes, drill, demo, audit');

  kms
    .command('serve')
    .description('run a key-management node (HTTP, 127.0.0.1 by default)')
    .option('--dir <dir>', 'node directory: its key and SQLite store', join(configDir(), 'kms'))
    .option('--port <n>', 'TCP port (0 picks a free one)', '7800')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--store <sqlite|file|url>', 'sqlite (in --dir), a SQLite file, or a postgres:// URL', 'sqlite')
    .option(
      '--trust-root <pem>',
      'trust this root certificate INSTEAD of the vendor roots (test CA, dev root); repeatable',
      collect,
      [] as string[],
    )
    .option(
      '--trust-sim <pem>',
      'trust this simulator root (evidence verifies as platform sim; policies must list "sim"); repeatable',
      collect,
      [] as string[],
    )
    .option('--quiet', 'no request logs')
    .action(async (options) => {
      const trustRoots = options.trustRoot as string[];
      const trustSim = options.trustSim as string[];
      if (trustSim.length > 0) {
        process.stderr.write(
          `veritee kms: WARNING trusting simulator root(s) ${trustSim.join(', ')} (platform sim, not hardware)\n`,
        );
      }
      if (trustRoots.length > 0) {
        process.stderr.write(
          `veritee kms: WARNING evidence is verified against ${trustRoots.join(', ')} instead of the vendor roots\n`,
        );
      }
      const { startKmsNode } = await import('../kms/node/runtime.js');
      const node = await startKmsNode({
        dir: options.dir,
        port: integer(options.port, '--port', 0, 65535),
        host: options.host,
        store: options.store,
        trustRoots,
        trustSim,
      });
      process.stdout.write(`veritee kms node ${node.identity.ref.id} listening on ${node.url}\n`);
      const stop = () => {
        node.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });

  kms
    .command('drill')
    .description(
      'run the failure drill with separate node processes on 127.0.0.1; exit 0 only when every step behaved',
    )
    .option('--nodes <n>', 'number of nodes', '5')
    .option('--threshold <t>', 'shares needed', '3')
    .option('--kill <k>', 'nodes killed with SIGKILL during recovery', '2')
    .option('--store <sqlite|url>', 'sqlite, or a postgres:// URL shared by the nodes', 'sqlite')
    .action(async (options) => {
      const { runDrill } = await import('../kms/node/drill.js');
      const ok = await runDrill({
        nodes: integer(options.nodes, '--nodes', 2, 16),
        threshold: integer(options.threshold, '--threshold', 2, 16),
        kill: integer(options.kill, '--kill', 0, 16),
        store: options.store === 'sqlite' ? undefined : options.store,
        print: (line) => process.stdout.write(`${line}\n`),
      });
      process.exitCode = ok ? 0 : 1;
    });

  kms
    .command('demo')
    .description('local stack: three nodes and a simulated enclave that creates, loses and recovers its key')
    .option(
      '--sim-dir <dir>',
      "the simulator's root directory (default $VERITEE_SIM_DIR, else $XDG_CONFIG_HOME/veritee/sim, else ~/.config/veritee/sim)",
    )
    .option(
      '--blobs <dir|s3://bucket/prefix>',
      'where the sealed state goes (S3: VERITEE_S3_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)',
    )
    .action(async (options) => {
      const { runDemo } = await import('../kms/node/demo.js');
      const ok = await runDemo({
        simDir: options.simDir,
        blobs: options.blobs,
        print: (line) => process.stdout.write(`${line}\n`),
      });
      process.exitCode = ok ? 0 : 1;
    });

  kms
    .command('audit')
    .description("fetch a node's audit log and check its hash chain and signatures")
    .argument('<url>', 'node base URL')
    .option('--json', 'print the entries')
    .action(async (url: string, options) => {
      const base = url.replace(/\/$/, '');
      const identity = (await (await fetch(`${base}/v1/node`)).json()) as {
        id: string;
        signingPublicKey: string;
      };
      const entries: unknown[] = [];
      for (;;) {
        const page = (await (
          await fetch(`${base}/v1/audit?from=${entries.length + 1}&limit=1000`)
        ).json()) as {
          entries: unknown[];
        };
        entries.push(...page.entries);
        if (page.entries.length < 1000) break;
      }
      const [{ verifyAuditChain }, { fromB64u }] = await Promise.all([
        import('../kms/audit.js'),
        import('../kms/codec.js'),
      ]);
      const check = verifyAuditChain(entries, fromB64u(identity.signingPublicKey, 'signingPublicKey'));
      if (options.json) process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      process.stdout.write(
        `audit log of node ${identity.id}: ${check.entries} entries, head ${check.head}, chain and signatures good\n`,
      );
    });
}
