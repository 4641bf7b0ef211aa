/** Node-only: commander wiring of the collateral options, the `collateral` command group and `watch`. */
import { type Command, Option } from 'commander';
import type { CommandOutput } from './verify-command.js';

// The implementations load when their command runs (they open stores and HTTP clients).
const commands = () => import('./collateral-command.js');

export interface CollateralCliOptions {
  readonly pcsUrl?: string | undefined;
  readonly kdsUrl?: string | undefined;
  readonly store?: string | undefined;
  readonly offline?: boolean | undefined;
  readonly update?: string | undefined;
}

/** An environment variable, with the empty string meaning unset. */
export function envOf(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

/** True when any collateral option or environment variable is set (`collateral-config.ts` applies them). */
export function isConfigured(options: CollateralCliOptions, env = process.env): boolean {
  return (
    options.pcsUrl !== undefined ||
    options.kdsUrl !== undefined ||
    options.store !== undefined ||
    options.offline === true ||
    envOf(env, 'VERITEE_PCS_URL') !== undefined ||
    envOf(env, 'VERITEE_KDS_URL') !== undefined ||
    envOf(env, 'VERITEE_STORE') !== undefined
  );
}

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
    print(await (await commands()).runCollateralFetch(files, options, process.stderr.isTTY === true));
  });
  collateralOptions(
    group
      .command('export')
      .description('write the whole store as a self-contained bundle')
      .argument('<file>'),
  ).action(async (file: string, options) => {
    print(await (await commands()).runCollateralExport(file, options));
  });
  collateralOptions(
    group
      .command('import')
      .description('verify a bundle and add it to the store (all or nothing)')
      .argument('<file>')
      .option('--at <time>', 'prefer this instant when checking each item inside its own validity window'),
  ).action(async (file: string, options) => {
    print(await (await commands()).runCollateralImport(file, options));
  });
  collateralOptions(
    group
      .command('list')
      .description('list what the store holds')
      .option('--json', 'one JSON object per item'),
  ).action(async (options) => {
    print(await (await commands()).runCollateralList(options));
  });
}

/** `veritee watch` (src/cli/watch-command.ts). */
export function addWatchCommand(program: Command): void {
  collateralOptions(
    program
      .command('watch')
      .description(
        're-appraise deployments on a schedule and when collateral changes; one JSON line per change',
      )
      .argument('<deployments.json>')
      .option('--once', 'one appraisal of every deployment, then exit (1 if any is rejected)')
      .option('--interval <seconds>', 'override intervalSeconds')
      .option('--webhook <url>', 'POST each status change as JSON to this URL')
      .option('--at <time>', 'appraise at this fixed time (audits, tests)')
      .option(
        '--refresh <duration>',
        'fetch current collateral from the PCS this often, whatever the store holds (default 1h; never with --offline)',
      ),
  ).action(async (file: string, options) => {
    const { runWatch } = await import('./watch-command.js');
    process.exitCode = await runWatch(file, options);
  });
}
