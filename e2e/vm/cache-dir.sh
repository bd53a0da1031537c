# shellcheck shell=bash
# Sourced by the IPVS machine scripts: where the downloaded kernel and the built initramfs live.
# Outside the repository, so a fresh clone reuses them; KUBELVS_VM_CACHE overrides the choice.
if [ -z "${KUBELVS_VM_CACHE:-}" ]; then
  if [ "$(id -u)" = 0 ]; then
    KUBELVS_VM_CACHE=/var/cache/kubelvs/vm
  else
    KUBELVS_VM_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/kubelvs/vm
  fi
fi
export KUBELVS_VM_CACHE
