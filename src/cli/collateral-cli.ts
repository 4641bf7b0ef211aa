/** Node-only: commander wiring of the collateral options and the `collateral` command group. */
import { type Command, Option } from 'commander';
import {
  runCollateralExport,
  runCollateralFetch,
  runCollateralImport,
  runCollateralList,
} from './collateral-command.js';
import type { CommandOutput } from './verify-command.js';

/** Adds --pcs-url, --kds-url, --store, --offline, --update to a command. */
export function collateralOptions(command: Command): Command {
  return command
    .option('--pcs-url <url>', 'Intel PCS v4 or PCCS base URL (env VERITEE_PCS_URL)')
    .option('--kds-url <url>', 'AMD KDS base URL (env VERITEE_KDS_URL)')
    .option('--store <path|url>', 'collateral store: SQLite file or postgres:// URL (env VERITEE_STORE)')
    .option('--offline', 'never fetch: use the store alone')
    .addOption(
      new Option('--update <kind>', 'Intel TCB evaluation data')
        .choices(['standard', 'early'])
        .default(undefined),
    );
}

function print(output: CommandOutput): void {
  process.stdout.write(output.stdout);
  if (output.stderr !== '') process.stderr.write(output.stderr);
  process.exitCode = output.exitCode;
}

export function addCollateralCommands(program: Command): void {
  const group = program
    .command('collateral')
    .description('fetch, list, export and import verified collateral');
  collateralOptions(
    group
      .command('fetch')
      .description('fetch, verify and store the collateral the given evidence needs')
      .argument('<evidence...>', 'evidence files (raw, hex or base64)')
      .option('--at <time>', 'verification time the collateral must cover (default: now)')
      .option('--json', 'one JSON object per file'),
  ).action(async (files: string[], options) => {
    print(await runCollateralFetch(files, options, process.stderr.isTTY === true));
  });
  collateralOptions(
    group
      .command('export')
      .description('write the whole store as a self-contained bundle')
      .argument('<file>'),
  ).action(async (file: string, options) => {
    print(await runCollateralExport(file, options));
  });
  collateralOptions(
    group
      .command('import')
      .description('verify a bundle and add it to the store (all or nothing)')
      .argument('<file>')
      .option('--at <time>', 'prefer this instant when checking each item inside its own validity window'),
  ).action(async (file: string, options) => {
    print(await runCollateralImport(file, options));
  });
  collateralOptions(
    group
      .command('list')
      .description('list what the store holds')
      .option('--json', 'one JSON object per item'),
  ).action(async (options) => {
    print(await runCollateralList(options));
  });
}
