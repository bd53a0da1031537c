#!/usr/bin/env bash
# Installs the system packages the build and the test tiers need (Debian bookworm, as root).
# Idempotent and quiet when everything is already there.
set -euo pipefail
need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
# build-essential + python3: node-gyp builds native/; iproute2 (ip) + procps (sysctl): the namespace lab;
# keepalived (Debian's 2.2.7): the interop lab tests and the failover benchmark run it next to the agent;
# tcpdump: lab tests time failovers on the wire.
for p in build-essential python3 iproute2 procps iputils-ping keepalived tcpdump ; do have "$p" || need+=("$p"); done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-deps: need root to install: ${need[*]}" >&2; exit 1; fi
  echo "install-deps: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
