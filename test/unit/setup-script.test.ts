// Runs scripts/setup.sh as .ci/run does, on a machine made of stubs: every command it may call is a
// fake on the PATH that records its arguments, and the script's /run is a folder of the test's, so
// that "is systemd running" and the init script's pid file are the test's to decide.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', 'scripts', 'setup.sh');
const PRESENT_TOOLS = ['buildah', 'htpasswd', 'git', 'unzip', 'java', 'chromium', 'cfn-lint', 'moto_server', 'npm'];
const SERVICE_COMMANDS = ['apt-get', 'systemctl', 'service', 'update-rc.d', 'pkill'];

const record = '#!/bin/sh\necho "$(basename "$0") $*" >> "$FAKE_CALLS"\n';
const fails = 'case " $FAKE_FAILING " in *" $(basename "$0") "*) exit 1;; esac\n';

const STUBS: Record<string, string> = {
  'dpkg-query': `${record}for pkg; do :; done
if [ -f "$FAKE_STATE/$pkg.installed" ]; then printf 'install ok installed'; else echo "dpkg-query: no packages found matching $pkg" >&2; exit 1; fi
`,
  // What installing Debian's package does: the binary, the dpkg status, and the service its postinst starts.
  'apt-get': `${record}[ "$1" = install ] || exit 0
for pkg; do
  [ "$pkg" = docker-registry ] || continue
  : > "$FAKE_STATE/docker-registry.installed"
  printf '#!/bin/sh\\n' > "$FAKE_BIN/docker-registry"; chmod +x "$FAKE_BIN/docker-registry"
  [ "$FAKE_INIT_STARTS" = yes ] && echo 4242 > "$FAKE_RUN/docker-registry.pid"
done
exit 0
`,
  systemctl: record + fails,
  service: record + fails,
  'update-rc.d': record + fails,
  pkill: record + fails,
  file: '#!/bin/sh\necho "$2: ELF 64-bit LSB executable, x86-64, statically linked, stripped"\n',
  id: '#!/bin/sh\necho 0\n',
  ...Object.fromEntries(PRESENT_TOOLS.map((tool) => [tool, record])),
};

interface Machine {
  registry: 'package' | 'binary only' | 'absent';
  systemd: boolean;
  /** The package's init script starts its registry on install (no policy-rc.d denying it). */
  initStarts?: boolean;
  /** Already running before this run: the init script's pid file is there. */
  servicePidFile?: boolean;
  failing?: string[];
  /** Tools of PRESENT_TOOLS this machine lacks. */
  absent?: string[];
}

interface SetupRun {
  status: number | null;
  stderr: string;
  calls: string[];
}

function runSetup(dir: string, machine: Machine): SetupRun {
  const [bin, run, state, scripts, lambdaNode] = ['bin', 'run', 'state', 'scripts', 'scripts/lambda-node'].map((d) => join(dir, d)) as [string, string, string, string, string];
  for (const d of [bin, run, state, join(dir, 'node_modules'), join(lambdaNode, 'node_modules')]) mkdirSync(d, { recursive: true });
  writeFileSync(join(scripts, 'setup.sh'), readFileSync(SCRIPT, 'utf8').replaceAll('/run/', `${run}/`));

  // npm ci is skipped when node_modules is newer than the lock file.
  const past = new Date('2026-01-01T00:00:00Z');
  for (const root of [dir, lambdaNode]) {
    writeFileSync(join(root, 'package-lock.json'), '{}');
    utimesSync(join(root, 'package-lock.json'), past, past);
    writeFileSync(join(root, 'node_modules', '.package-lock.json'), '{}');
  }

  for (const [name, text] of Object.entries(STUBS)) {
    if (machine.absent?.includes(name)) continue;
    writeFileSync(join(bin, name), text);
    chmodSync(join(bin, name), 0o755);
  }
  for (const tool of ['basename', 'chmod', 'dirname', 'grep']) symlinkSync(`/usr/bin/${tool}`, join(bin, tool));
  if (machine.registry !== 'absent') writeFileSync(join(bin, 'docker-registry'), '#!/bin/sh\n', { mode: 0o755 });
  if (machine.registry === 'package') writeFileSync(join(state, 'docker-registry.installed'), '');
  if (machine.systemd) mkdirSync(join(run, 'systemd', 'system'), { recursive: true });
  if (machine.servicePidFile) writeFileSync(join(run, 'docker-registry.pid'), '4242\n');

  const calls = join(dir, 'calls');
  writeFileSync(calls, '');
  const result = spawnSync('/bin/bash', [join(scripts, 'setup.sh')], {
    env: {
      PATH: bin,
      HOME: dir,
      FAKE_CALLS: calls,
      FAKE_BIN: bin,
      FAKE_RUN: run,
      FAKE_STATE: state,
      FAKE_INIT_STARTS: machine.initStarts ? 'yes' : 'no',
      FAKE_FAILING: (machine.failing ?? []).join(' '),
    },
    encoding: 'utf8',
  });
  return {
    status: result.status,
    stderr: result.stderr,
    calls: readFileSync(calls, 'utf8')
      .split('\n')
      .filter((line) => SERVICE_COMMANDS.includes(line.split(' ')[0]!))
      .map((line) => line.replaceAll(dir, '<root>')),
  };
}

const INSTALL = ['apt-get update', 'apt-get install -y docker-registry'];
const WARNING = 'setup: the docker-registry service its package started may still be running or enabled; cascade does not use it';

const rows: Array<{ name: string; machine: Machine; calls: string[]; warning?: true }> = [
  { name: 'docker-registry installed before, systemd running', machine: { registry: 'package', systemd: true }, calls: [] },
  { name: 'docker-registry installed before and its service running, no systemd', machine: { registry: 'package', systemd: false, servicePidFile: true }, calls: [] },
  { name: 'a docker-registry binary that no package installed', machine: { registry: 'binary only', systemd: false, servicePidFile: true }, calls: [] },
  {
    name: 'installed by this run, systemd running',
    machine: { registry: 'absent', systemd: true },
    calls: [...INSTALL, 'systemctl disable --now docker-registry.service'],
  },
  {
    name: 'installed by this run, no systemd, the init script started it',
    machine: { registry: 'absent', systemd: false, initStarts: true },
    calls: [...INSTALL, 'service docker-registry stop', 'update-rc.d docker-registry disable'],
  },
  {
    name: 'installed by this run, no systemd, policy-rc.d kept it from starting',
    machine: { registry: 'absent', systemd: false },
    calls: [...INSTALL, 'update-rc.d docker-registry disable'],
  },
  {
    name: 'installed by this run, no systemd, the init script failing to stop it',
    machine: { registry: 'absent', systemd: false, initStarts: true, failing: ['service'] },
    calls: [...INSTALL, 'service docker-registry stop', 'pkill -F <root>/run/docker-registry.pid -x docker-registry', 'update-rc.d docker-registry disable'],
  },
  {
    name: 'installed by this run, no systemd, neither the init script nor pkill stopping it',
    machine: { registry: 'absent', systemd: false, initStarts: true, failing: ['service', 'pkill'] },
    calls: [...INSTALL, 'service docker-registry stop', 'pkill -F <root>/run/docker-registry.pid -x docker-registry', 'update-rc.d docker-registry disable'],
    warning: true,
  },
  {
    name: 'installed by this run, systemctl failing',
    machine: { registry: 'absent', systemd: true, failing: ['systemctl'] },
    calls: [...INSTALL, 'systemctl disable --now docker-registry.service'],
    warning: true,
  },
];

describe('scripts/setup.sh and Chromium', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cascade-setup-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['installs Debian’s chromium when it is missing', ['chromium'], ['apt-get update', 'apt-get install -y chromium']],
    ['installs nothing when chromium is there', [], []],
  ])('%s', (_name, absent, calls) => {
    const result = runSetup(dir, { registry: 'package', systemd: true, absent });
    expect(result.calls).toEqual(calls);
    expect(result.status).toBe(0);
  });
});

describe('scripts/setup.sh and the docker-registry service', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cascade-setup-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('looks for systemd and the init script\'s pid file where the test moves them', () => {
    const script = readFileSync(SCRIPT, 'utf8');
    expect(script).toContain('[ -d /run/systemd/system ]');
    expect(script).toContain('/run/docker-registry.pid');
  });

  it.each(rows)('$name', ({ machine, calls, warning }) => {
    const result = runSetup(dir, machine);
    expect(result.calls).toEqual(calls);
    expect(result.status).toBe(0);
    if (warning) expect(result.stderr).toContain(WARNING);
    else expect(result.stderr).not.toContain(WARNING);
  });
});
