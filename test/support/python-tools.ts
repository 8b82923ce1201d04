// The Python tools the suite runs (cfn-lint, moto_server): from PATH, or from the virtual
// environment scripts/setup.sh makes on a machine whose Python lacks them.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** Where scripts/setup.sh installs them when the machine has none. */
export const TOOLS_VENV = join(ROOT, '.venv');

export function pythonTool(name: 'cfn-lint' | 'moto_server'): string {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name)), join(TOOLS_VENV, 'bin', name)];
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(`${name} is not installed: run "bash scripts/setup.sh", which installs it with pip`);
}
