/**
 * Runs KMS nodes as separate OS processes on 127.0.0.1 (`veritee kms serve`), for the drill and the
 * demo: start, kill -9, stop, restart on the same port and directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ErrorCode, VeriteeError } from '../../errors.js';

export const CLI_PATH = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

export interface NodeProcessOptions {
  readonly dir: string;
  readonly port?: number;
  readonly store?: string;
  /** Simulator root certificates the node trusts (`--trust-sim`). */
  readonly trustSim: readonly string[];
}

export class NodeProcess {
  readonly options: NodeProcessOptions;
  url = '';
  id = '';
  port = 0;
  #child: ChildProcess | undefined;
  #stderr = '';

  constructor(options: NodeProcessOptions) {
    this.options = options;
    this.port = options.port ?? 0;
  }

  /** The last lines the process wrote to stderr (for diagnostics). */
  get stderrTail(): string {
    return this.#stderr;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /**
   * Starts the process and waits for its `listening` line (30 s). `trustSim` overrides the options'
   * simulator roots for this start (the drill restarts a node without them).
   */
  async start(trustSim: readonly string[] = this.options.trustSim): Promise<void> {
    const args = [
      CLI_PATH,
      'kms',
      'serve',
      '--dir',
      this.options.dir,
      '--port',
      String(this.port),
      '--quiet',
    ];
    for (const root of trustSim) args.push('--trust-sim', root);
    if (this.options.store !== undefined) args.push('--store', this.options.store);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-2000);
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(this.#failure('did not start within 30 s')), 30_000);
      child.stdout?.on('data', (chunk: Buffer) => {
        out += chunk.toString('utf8');
        const match = /node ([0-9a-f]{32}) listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
        if (match !== null) {
          clearTimeout(timer);
          this.id = match[1]!;
          this.url = match[2]!;
          this.port = Number(match[3]);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(this.#failure(`exited with ${code} before listening`));
      });
    });
  }

  #failure(what: string): VeriteeError {
    return new VeriteeError(ErrorCode.KMS_NODE_UNAVAILABLE, `node process ${what}`, {
      details: this.#stderr.split('\n').filter(Boolean).slice(-3).join(' | '),
    });
  }

  /** kill -9, and wait until the process is gone. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  /** SIGTERM, and wait. */
  async stop(): Promise<void> {
    await this.#signal('SIGTERM');
  }

  async #signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }
}
