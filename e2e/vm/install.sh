#!/usr/bin/env bash
# Installs what the IPVS test machine needs (Debian bookworm, as root). Idempotent: quiet and fast
# when everything is already there, so the harness calls it before every first boot.
#   - busybox-static: the guest's init and modprobe (a static binary works before the host root
#     is mounted, and the host has no kmod of its own)
#   - ipvsadm: the reference tool the VM tests compare our netlink client against
#   - Debian's user-mode-linux kernel (6.1, with IPVS as modules), downloaded and unpacked into a
#     cache outside the repository; never installed, so it changes nothing on the host.
# Prints the cache directory on the last line of stdout; run-in-uml.sh reads it from there.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=e2e/vm/cache-dir.sh
. "$here/cache-dir.sh"

fail() { echo "e2e/vm/install.sh: $*" >&2; exit 1; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for pkg in busybox-static ipvsadm; do installed "$pkg" || missing+=("$pkg"); done
if [ ! -f "$KUBELVS_VM_CACHE/uml/.complete" ] || [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "needs root to install ${missing[*]:-} and the user-mode-linux kernel into $KUBELVS_VM_CACHE"
fi

mkdir -p "$KUBELVS_VM_CACHE"
# Two test runs starting at once must not both unpack into the same directory.
exec 9>"$KUBELVS_VM_CACHE/.install.lock"
flock 9

apt_updated=0
apt_update_once() {
  [ $apt_updated = 1 ] && return
  apt-get update -qq || fail "apt-get update failed"
  apt_updated=1
}

if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e/vm/install.sh: installing ${missing[*]}" >&2
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    fail "apt-get install ${missing[*]} failed"
fi

uml=$KUBELVS_VM_CACHE/uml
if [ ! -f "$uml/.complete" ]; then
  echo "e2e/vm/install.sh: fetching Debian's user-mode-linux kernel into $uml" >&2
  download=$(mktemp -d "$KUBELVS_VM_CACHE/download.XXXXXX")
  trap 'rm -rf "$download"' EXIT
  # apt's sandbox user cannot write into a root-only cache; download as root into our own dir.
  if ! (cd "$download" && apt-get download -o APT::Sandbox::User=root user-mode-linux >/dev/null 2>"$download/apt.err"); then
    apt_update_once
    (cd "$download" && apt-get download -o APT::Sandbox::User=root user-mode-linux >/dev/null 2>"$download/apt.err") ||
      fail "apt-get download user-mode-linux failed: $(cat "$download/apt.err")"
  fi
  rm -rf "$uml"
  dpkg -x "$download"/user-mode-linux_*.deb "$uml"
  [ -x "$uml/usr/bin/linux.uml" ] || fail "the user-mode-linux package has no usr/bin/linux.uml"
  # The usual layout (<root>/lib/modules/<version>) lets depmod -b and the guest's modprobe find them.
  mkdir -p "$uml/lib"
  mv "$uml/usr/lib/uml/modules" "$uml/lib/modules"
  rm -rf "${uml:?}/usr/share" "${uml:?}/usr/lib" # documentation and the now empty module tree
  for moddir in "$uml"/lib/modules/*; do
    # Some builds of the package ship no modules.dep; busybox's modprobe in the guest needs it.
    if [ ! -s "$moddir/modules.dep" ]; then
      busybox depmod -b "$uml" "$(basename "$moddir")" || fail "busybox depmod in $moddir failed"
    fi
  done
  touch "$uml/.complete"
fi
echo "$KUBELVS_VM_CACHE"
