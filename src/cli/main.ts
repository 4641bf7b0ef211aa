#!/usr/bin/env node
/** The `veritee` command line. Thin over the library: each command parses arguments, calls, prints. */
import { Command, CommanderError, Option } from 'commander';
import { isVeriteeError } from '../errors.js';
import { VERSION } from '../version.js';
import { addCollateralCommands, addWatchCommand, collateralOptions } from './collateral-cli.js';
import { EXIT } from './io.js';
import { registerKmsCommands } from './kms-command.js';

// Each command's implementation is imported when that command runs: `veritee verify` does not load the
// HTTP server, the KMS node, the Sigstore verifier or the database drivers.

function buildProgram(): Command {
  const program = new Command('veritee')
    .description('Verify what runs in Trusted Execution Environments')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });

  const verify = program
    .command('verify')
    .description('verify attestation evidence (raw, base64 or hex; platform auto-detected) and appraise it')
    .argument('[file]', 'evidence file, or - for stdin')
    .option('--at <time>', 'verification time: RFC 3339 or Unix seconds (default: now)')
    .option('--policy <file>', 'appraisal policy (JSON)')
    .option(
      '--collateral <file|dir>',
      'endorsements: Intel DCAP collateral JSON or a folder of Intel PCS files',
    )
    .option('--json', 'print the AttestationResult as one JSON object')
    .option('--ear', 'print an EAR (EAT Attestation Result) claim-set; a JWT with --ear-key')
    .option('--ear-key <jwk>', 'private JWK (EC P-256/P-384 or Ed25519) to sign the EAR as a JWT')
    .addOption(new Option('--ear-names <style>', 'EAR claim names').choices(['dotted', 'underscore']))
    .option('--demo', 'verify the bundled real Nitro document at its own timestamp')
    .option('--vcek <file>', 'SEV-SNP: VCEK or VLEK certificate (DER or PEM; PEM may carry the chain)')
    .option('--chain <file>', 'SEV-SNP: ASK or ASVK, optionally with the ARK (PEM or DER)')
    .option('--crl <file>', 'SEV-SNP: AMD CRL (DER or PEM)')
    .option('--expect <file>', 'measurements.json: the evidence must show these values for its platform')
    .option('--trust-sim', "trust this installation's simulator roots and accept platform sim")
    .option('--sim-dir <dir>', 'simulator root directory (default $XDG_CONFIG_HOME/veritee/sim)')
    .option('--sim-root <pem>', 'simulator root certificate(s) file (instead of --sim-dir)')
    .option(
      '--release <bundle>',
      "release bundle for the policy's releases section (repeatable)",
      collect,
      [],
    );
  collateralOptions(verify).action(async (file: string | undefined, options) => {
    const { runVerify } = await import('./verify-command.js');
    const output = await runVerify(file, options, process.stdout.isTTY === true);
    process.stdout.write(output.stdout);
    process.exitCode = output.exitCode;
  });
  addCollateralCommands(program);
  addWatchCommand(program);

  program
    .command('serve-verifier')
    .description('serve the verification API (POST /v1/verify) and the attestation explorer page')
    .option('--port <n>', 'TCP port (0 picks a free one)', '8080')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option(
      '--key <jwk>',
      'private JWK that signs EARs (default: created once in ~/.config/veritee/verifier-key.jwk)',
    )
    .option('--max-body <bytes>', 'largest accepted request body', String(1024 * 1024))
    .option('--rate <n>', 'requests per second per client (burst: twice that)', '50')
    .option('--quiet', 'no request logs')
    .option(
      '--store <path|url>',
      'relay this collateral store at GET /v1/collateral (SQLite file or postgres:// URL)',
    )
    .action(async (options) => {
      const { runServeVerifier } = await import('./serve-verifier-command.js');
      await runServeVerifier(options);
    });

  program
    .command('serve')
    .description('serve an app module inside the TEE: fresh evidence, the attested channel, signed responses')
    .argument(
      '[app]',
      'ES module whose default export handles one request (Uint8Array → Uint8Array | string)',
    )
    .option('--port <n>', 'TCP port for HTTP and the WebSocket channel (0 picks a free one)')
    .option('--host <address>', 'address to listen on (default 127.0.0.1)')
    .option('--provider <name>', 'evidence provider: auto, tsm, dstack, gramine, nitro, sim (default auto)')
    .option('--sim-dir <dir>', 'simulator root directory (default $XDG_CONFIG_HOME/veritee/sim)')
    .option(
      '--sim-format <format>',
      'what the simulator emits: nitro (a Nitro document) or tdx (a TDX quote)',
    )
    .action(async (app: string | undefined, options) => {
      const { runServe } = await import('./serve-command.js');
      const server = await runServe(app, options);
      const stop = () => void server.close().then(() => process.exit(EXIT.accepted));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('connect')
    .description(
      'verify an enclave, open the attested channel, send one message and print the verified reply',
    )
    .argument('[url]', 'http(s)://host:port, ws(s)://host:port/channel or tcp://host:port')
    .option('--send <text>', 'the message to send')
    .option('--policy <file>', 'appraisal policy (JSON)')
    .option('--trust-sim', "trust this installation's simulator root and accept platform sim")
    .option('--sim-dir <dir>', 'simulator root directory (default $XDG_CONFIG_HOME/veritee/sim)')
    .option('--sim-root <pem>', 'simulator root certificate file (instead of --sim-dir)')
    .option('--timeout <ms>', 'handshake timeout in milliseconds (default 30000)')
    .option('--json', 'print {accepted, reply, result} as JSON')
    .action(async (url: string | undefined, options) => {
      const { runConnect } = await import('./connect-command.js');
      const output = await runConnect(url, options);
      process.stderr.write(output.stderr);
      process.stdout.write(output.stdout);
      process.exitCode = output.exitCode;
    });
  addMeasureCommands(program);
  registerKmsCommands(program);
  return program;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function print(output: { stdout: string; exitCode: number }): void {
  process.stdout.write(output.stdout);
  process.exitCode = output.exitCode;
}

/** `measure`, `release` and `log` (docs/measure.md). */
function addMeasureCommands(program: Command): void {
  const measure = program
    .command('measure')
    .description('compute the measurements a build or a boot produces');
  measure
    .command('eif')
    .description('PCR0, PCR1, PCR2 (and PCR8 if signed) of an AWS Nitro Enclave image file')
    .argument('<file>', 'the .eif file')
    .option('--json', 'print JSON')
    .action(async (file: string, options) =>
      print((await import('./measure-command.js')).runMeasureEif(file, options)),
    );
  measure
    .command('rtmr')
    .description('replay a TDX event log (CCEL binary or dstack JSON) into RTMR0-3; compare with a quote')
    .requiredOption('--event-log <file>', 'the event log')
    .option(
      '--quote <file>',
      'TDX quote (raw, hex or base64): exit 0 on match, 1 naming the first diverging event',
    )
    .option('--json', 'print JSON')
    .action(async (options) => print((await import('./measure-command.js')).runMeasureRtmr(options)));

  const release = program
    .command('release')
    .description('signed release records (in-toto Statement in DSSE)');
  release
    .command('sign')
    .description('sign a release record; prints the DSSE envelope')
    .requiredOption('--key <jwk>', 'private JWK (Ed25519 or EC P-256)')
    .requiredOption('--repository <url>', 'source repository, e.g. https://github.com/org/app')
    .requiredOption('--commit <sha>', 'commit id (40 or 64 hex)')
    .requiredOption('--measurements <file>', 'measurements.json')
    .option('--recipe <file>', 'build recipe file (its SHA-256 is recorded)')
    .option('--recipe-digest <hex>', 'SHA-256 of the build recipe')
    .option('--recipe-uri <uri>', 'where the build recipe lives')
    .action(async (options) => print(await (await import('./release-command.js')).runReleaseSign(options)));
  release
    .command('verify')
    .description('verify a release record or bundle: exit 0 verified, 1 refused, 2 unusable input')
    .argument('<file>', 'DSSE envelope or release bundle (JSON)')
    .option('--signer <jwk>', 'trusted signer public JWK (repeatable)', collect, [])
    .option('--repository <url>', 'required repository')
    .option('--log-key <jwk>', "the log's public JWK (bundles)")
    .option('--log-origin <name>', "the log's origin (bundles)")
    .option('--json', 'print JSON')
    .action(async (file: string, options) =>
      print(await (await import('./release-command.js')).runReleaseVerify(file, options)),
    );
  release
    .command('bundle')
    .description('prove a release record in a transparency log; prints the bundle for verify --release')
    .argument('<file>', 'DSSE envelope (JSON)')
    .requiredOption('--log <url>', 'log base URL')
    .requiredOption('--log-key <jwk>', "the log's public JWK")
    .requiredOption('--log-origin <name>', "the log's origin")
    .option('--submit', 'submit the record first')
    .option('--trusted <file>', 'a tree head trusted earlier: the log must be consistent with it')
    .action(async (file: string, options) =>
      print(await (await import('./release-command.js')).runReleaseBundle(file, options)),
    );

  release
    .command('sigstore')
    .description('verify a Sigstore bundle offline against a trusted root; print its in-toto subjects')
    .argument('<bundle>', 'Sigstore bundle (JSON)')
    .requiredOption('--trusted-root <file>', 'Sigstore trusted root (JSON)')
    .option('--identity <san>', 'expected certificate SAN (keyless), e.g. a GitHub workflow URL with its ref')
    .option('--issuer <url>', 'expected OIDC issuer (keyless)')
    .option('--key <hint=pem>', 'trusted public key for a managed-key bundle (repeatable)', collect, [])
    .option('--json', 'print JSON')
    .action(async (file: string, options) =>
      print(await (await import('./release-command.js')).runReleaseSigstore(file, options)),
    );

  program
    .command('log')
    .description('the release transparency log')
    .command('serve')
    .description('serve the log over HTTP (SQLite storage)')
    .requiredOption('--db <file>', 'SQLite database file')
    .requiredOption('--key <jwk>', 'private JWK that signs tree heads')
    .requiredOption('--origin <name>', "the log's name, signed into every tree head")
    .option('--port <n>', 'TCP port (0 picks a free one)', '8081')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .action(async (options) => {
      const { runLogServe } = await import('./log-command.js');
      const running = await runLogServe(options);
      process.stdout.write(
        `transparency log ${options.origin} on port ${running.port} (key ${running.keyid})\n`,
      );
    });
}

async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode =
        error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : EXIT.unusable;
      return;
    }
    if (isVeriteeError(error)) {
      process.stderr.write(`veritee: ${error.code}: ${error.message}\n`);
      process.exitCode = EXIT.unusable;
      return;
    }
    process.stderr.write(
      `veritee: internal error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 70;
  }
}

await main(process.argv);
