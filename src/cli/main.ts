#!/usr/bin/env node
/** The `veritee` command line. Thin over the library: each command parses arguments, calls, prints. */
import { Command, CommanderError, Option } from 'commander';
import { isVeriteeError } from '../errors.js';
import { VERSION } from '../version.js';
import { EXIT } from './io.js';
import { registerKmsCommands } from './kms-command.js';
import { runServeVerifier } from './serve-verifier-command.js';
import { runVerify } from './verify-command.js';

function buildProgram(): Command {
  const program = new Command('veritee')
    .description('Verify what runs in Trusted Execution Environments')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });

  program
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
    .action(async (file: string | undefined, options) => {
      const output = await runVerify(file, options, process.stdout.isTTY === true);
      process.stdout.write(output.stdout);
      process.exitCode = output.exitCode;
    });
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
    .action(async (options) => {
      await runServeVerifier(options);
    });
  registerKmsCommands(program);
  return program;
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
