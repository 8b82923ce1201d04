#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for cascade's local stack, then the npm packages.
# Idempotent: a machine that has everything only runs `npm ci` (skipped when node_modules is current).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v buildah >/dev/null || need+=(buildah)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v git >/dev/null || need+=(git)
# npm run bench unpacks the functions' bundles to time their import.
command -v unzip >/dev/null || need+=(unzip)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
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
# Debian's docker-registry package may start a registry on :5000; cascade starts its own on free ports.
pkill -f 'docker-registry serve /etc/docker/registry' 2>/dev/null || true

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
