/** Where veritee keeps its per-user state (service key, KMS node, simulator root): $XDG_CONFIG_HOME/veritee. */
import { homedir } from 'node:os';
import { join } from 'node:path';

export function configDir(): string {
  const base = process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config');
  return join(base, 'veritee');
}
