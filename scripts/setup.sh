#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for cascade's local stack, then the npm packages.
# Idempotent: a machine that has everything only runs `npm ci` (skipped when node_modules is current).
set -euo pipefail
cd "$(dirname "$0")/.."

package_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = 'install ok installed' ]
}
# Stops the docker-registry package's service and disables it; false when part of that failed.
stop_packaged_registry() {
  if [ -d /run/systemd/system ]; then
    systemctl disable --now docker-registry.service
    return
  fi
  local stopped=true
  # The package's init script writes the pid of the registry it starts there: no file, nothing started.
  if [ -f /run/docker-registry.pid ]; then
    service docker-registry stop || pkill -F /run/docker-registry.pid -x docker-registry || stopped=false
  fi
  update-rc.d docker-registry disable && $stopped
}
# Debian's docker-registry package starts a registry service when installed; a registry that was
# there before this run may be one the machine relies on, and is left alone.
registry_was_installed=false
if package_installed docker-registry; then registry_was_installed=true; fi

need=()
command -v buildah >/dev/null || need+=(buildah)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v git >/dev/null || need+=(git)
# npm run bench unpacks the functions' bundles to time their import.
command -v unzip >/dev/null || need+=(unzip)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
# The web console's browser tests and screenshots drive Debian's Chromium (never a downloaded one).
command -v chromium >/dev/null || need+=(chromium)
# The tutorial's base image is made FROM scratch with a static busybox.
if ! command -v file >/dev/null || ! file -L /bin/busybox 2>/dev/null | grep -q 'statically linked'; then
  need+=(busybox-static file)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "cascade needs these Debian packages: ${need[*]}; run this script as root (sudo)." >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y "${need[@]}"
fi
# cascade starts its own registries on free ports: the service this run's install started (on :5000)
# is stopped and kept from starting at boot.
if [ "$registry_was_installed" = false ] && package_installed docker-registry; then
  stop_packaged_registry ||
    echo "setup: the docker-registry service its package started may still be running or enabled; cascade does not use it" >&2
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

# The Node.js major of the Lambda runtime (nodejs24.x), which the tests that run the functions
# as Lambda does use (test/support/lambda-runtime.ts); apart, so that `node` stays the machine's.
lambda_node=scripts/lambda-node
if [ ! -f "$lambda_node/node_modules/.package-lock.json" ] || [ "$lambda_node/package-lock.json" -nt "$lambda_node/node_modules/.package-lock.json" ]; then
  npm ci --prefix "$lambda_node" --no-audit --no-fund
fi

# AWS's CloudFormation linter and the moto AWS emulator, from PyPI, where Python lacks them (the
# versions the suite was written against; test/support/python-tools.ts finds them in .venv too).
if ! command -v cfn-lint >/dev/null || ! command -v moto_server >/dev/null; then
  if [ ! -x .venv/bin/cfn-lint ] || [ ! -x .venv/bin/moto_server ]; then
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
      if [ "$(id -u)" -ne 0 ]; then
        echo "cascade's tests need Python's venv module (Debian: python3-venv); run this script as root (sudo)." >&2
        exit 1
      fi
      export DEBIAN_FRONTEND=noninteractive
      apt-get update
      apt-get install -y python3-venv
    fi
    python3 -m venv .venv
    .venv/bin/pip install --quiet 'cfn-lint==1.51.*' 'moto[server]==5.2.*'
  fi
fi
