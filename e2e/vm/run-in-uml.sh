#!/usr/bin/env bash
# Runs one command as root inside a throw-away Linux whose kernel has IPVS: Debian's User-Mode
# Linux 6.1 (a kernel that runs as an ordinary host process, so no KVM is needed). The guest sees
# the host's root file system read-only under a tmpfs overlay, so host binaries (node, ipvsadm, ip)
# and the repository run unchanged inside and nothing the guest writes reaches the host, except
# in the directories given with --rw.
#
#   e2e/vm/run-in-uml.sh [options] [--] command [argument...]
#     --timeout SECONDS   kill the machine after this long (default 600); exit code 124
#     --rw DIR            mount host directory DIR read-write at the same path (repeatable)
#     --env NAME[=VALUE]  export NAME into the command's environment, with VALUE or this
#                         process's value of NAME (repeatable; PATH is always exported)
#     --cwd DIR           working directory of the command (default: the current directory)
#     --mem MIB           guest memory (default 1024)
#   KUBELVS_VM_DEBUG=1 shows the guest kernel's console on stderr.
#
# The command's stdout and stderr stream to this script's stdout and stderr, and its exit code is
# this script's. 124: the timeout hit; 125: the machine itself failed (the console log is shown).
# The guest is killed and the run's temporary directory removed on every exit, Ctrl-C included.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
machine_failed() {
  echo "run-in-uml: $*" >&2
  exit 125
}

timeout_seconds=600
memory_mib=1024
cwd=$PWD
rw_dirs=()
env_lines=()
while [ $# -gt 0 ]; do
  case $1 in
    --timeout) timeout_seconds=${2:?--timeout needs seconds}; shift 2 ;;
    --rw) rw_dirs+=("${2:?--rw needs a directory}"); shift 2 ;;
    --env)
      spec=${2:?--env needs NAME or NAME=VALUE}
      name=${spec%%=*}
      [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || machine_failed "--env: bad variable name '$name'"
      if [[ $spec == *=* ]]; then value=${spec#*=}; else value=${!name-}; fi
      env_lines+=("export $name=$(printf '%q' "$value")")
      shift 2
      ;;
    --cwd) cwd=${2:?--cwd needs a directory}; shift 2 ;;
    --mem) memory_mib=${2:?--mem needs MiB}; shift 2 ;;
    --) shift; break ;;
    -*) machine_failed "unknown option $1" ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || machine_failed "usage: run-in-uml.sh [--timeout S] [--rw DIR] [--env NAME[=VALUE]] [--cwd DIR] [--mem MIB] [--] command [argument...]"
[[ $timeout_seconds =~ ^[0-9]+$ ]] || machine_failed "--timeout: not a number of seconds: $timeout_seconds"
[[ $memory_mib =~ ^[0-9]+$ ]] || machine_failed "--mem: not a number of MiB: $memory_mib"

# First use on this machine: fetch the kernel, busybox-static and ipvsadm (needs root).
# shellcheck source=e2e/vm/cache-dir.sh
. "$here/cache-dir.sh"
if [ ! -f "$KUBELVS_VM_CACHE/uml/.complete" ] || ! command -v ipvsadm >/dev/null || ! command -v busybox >/dev/null; then
  bash "$here/install.sh" >/dev/null || machine_failed "e2e/vm/install.sh failed"
fi
uml=$KUBELVS_VM_CACHE/uml
busybox=$(command -v busybox)
case "$(LC_ALL=C ldd "$busybox" 2>&1 || true)" in
  *"not a dynamic"*) ;;
  *) machine_failed "$busybox is dynamically linked, the initramfs needs busybox-static (apt-get install busybox-static)" ;;
esac
modules_dir=$(echo "$uml"/lib/modules/*)
kernel_version=$(basename "$modules_dir")
[ -f "$modules_dir/modules.dep" ] || machine_failed "no modules.dep in $modules_dir; remove $uml and rerun"

# Paths reach the guest through the kernel command line and hostfs mount options, where spaces
# and commas would split them.
safe_path() { [[ $1 =~ ^/[A-Za-z0-9._/+@-]*$ ]]; }
for i in "${!rw_dirs[@]}"; do
  dir=$(cd "${rw_dirs[$i]}" 2>/dev/null && pwd) || machine_failed "--rw: no such directory: ${rw_dirs[$i]}"
  safe_path "$dir" || machine_failed "--rw: unsupported characters in $dir"
  rw_dirs[i]=$dir
done
cwd=$(cd "$cwd" 2>/dev/null && pwd) || machine_failed "--cwd: no such directory: $cwd"
safe_path "$here/guest-session.sh" || machine_failed "unsupported characters in the repository path $here"

# The initramfs (busybox, overlay.ko, initramfs-init.sh) is built once per content and cached.
initramfs_key=$( (cat "$here/initramfs-init.sh" "$busybox" "$modules_dir/kernel/fs/overlayfs/overlay.ko") | sha256sum | cut -c1-16)
initramfs=$KUBELVS_VM_CACHE/initramfs-$kernel_version-$initramfs_key.cpio.gz
if [ ! -f "$initramfs" ]; then
  (
    flock 9
    [ -f "$initramfs" ] && exit 0
    staging=$(mktemp -d "$KUBELVS_VM_CACHE/initramfs.XXXXXX")
    trap 'rm -rf "$staging"' EXIT
    mkdir -p "$staging"/{bin,dev,proc,sys} "$staging/lib/modules/$kernel_version/kernel/fs/overlayfs"
    cp "$busybox" "$staging/bin/busybox"
    for applet in sh mount mkdir modprobe sed switch_root poweroff; do ln -s busybox "$staging/bin/$applet"; done
    cp "$modules_dir/kernel/fs/overlayfs/overlay.ko" "$staging/lib/modules/$kernel_version/kernel/fs/overlayfs/"
    echo "kernel/fs/overlayfs/overlay.ko:" >"$staging/lib/modules/$kernel_version/modules.dep"
    install -m 0755 "$here/initramfs-init.sh" "$staging/init"
    (cd "$staging" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$initramfs.partial"
    mv "$initramfs.partial" "$initramfs"
  ) 9>"$KUBELVS_VM_CACHE/.initramfs.lock" || machine_failed "cannot build the initramfs"
fi

# ------------------------------------------------------------------------------- per run ----
run_dir=$(mktemp -d "${TMPDIR:-/tmp}/kubelvs-vm.XXXXXX")
safe_path "$run_dir" || machine_failed "unsupported characters in TMPDIR ($run_dir)"
machine_pid=
watchdog_pid=
drain_pids=()
stop_machine() {
  # UML calls setsid(): its kernel process leads a process group holding all of its helper
  # processes (one per guest address space), so the group is what has to die. Before setsid the
  # group does not exist yet, hence the pid as well.
  kill -KILL -- "-$machine_pid" "$machine_pid" 2>/dev/null || true
}
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  if [ -n "$machine_pid" ]; then stop_machine; fi
  if [ -n "$watchdog_pid" ]; then kill "$watchdog_pid" 2>/dev/null || true; fi
  if [ ${#drain_pids[@]} -gt 0 ]; then kill "${drain_pids[@]}" 2>/dev/null || true; fi
  rm -rf "$run_dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

{
  printf 'BUSYBOX=%q\n' "$busybox"
  printf 'KERNEL_VERSION=%q\n' "$kernel_version"
  printf 'MODULES_DIR=%q\n' "$modules_dir"
  echo "STDOUT_TTY=/dev/tty1 STDERR_TTY=/dev/tty2"
  printf 'RW_DIRS=('
  [ ${#rw_dirs[@]} -eq 0 ] || printf ' %q' "${rw_dirs[@]}"
  printf ' )\n'
} >"$run_dir/boot.env"
{
  echo "export PATH=$(printf '%q' "$PATH") HOME=/root LANG=C.UTF-8 TERM=dumb"
  [ ${#env_lines[@]} -eq 0 ] || printf '%s\n' "${env_lines[@]}"
  echo "cd $(printf '%q' "$cwd") || exit 125"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$run_dir/command.sh"

# UML makes the descriptors it is given non-blocking. Handing it our own stdout/stderr would leak
# O_NONBLOCK into the caller's pipes (and lose output there), so it writes into fifos that our
# own `cat`s copy out.
mkfifo "$run_dir/stdout" "$run_dir/stderr" "$run_dir/console"
cat "$run_dir/stdout" &
drain_pids+=($!)
cat "$run_dir/stderr" >&2 &
drain_pids+=($!)
if [ "${KUBELVS_VM_DEBUG:-0}" = 1 ]; then cat "$run_dir/console" >&2 & else cat "$run_dir/console" >"$run_dir/console.log" & fi
drain_pids+=($!)

if [ "${KUBELVS_VM_DEBUG:-0}" = 1 ]; then verbosity=loglevel=7; else verbosity="quiet loglevel=3"; fi
# con0 is the kernel console, tty1/tty2 carry the command's stdout/stderr (guest-session.sh).
# uml_dir keeps UML's pid file and management socket out of ~/.uml.
# shellcheck disable=SC2086 # verbosity is two kernel parameters
"$uml/usr/bin/linux.uml" \
  mem="${memory_mib}M" initrd="$initramfs" umid=kubelvs uml_dir="$run_dir" \
  con=null ssl=null con0=null,fd:4 con1=null,fd:3 con2=null,fd:5 \
  $verbosity panic=-1 kubelvs_run="$run_dir" kubelvs_session="$here/guest-session.sh" \
  </dev/null >"$run_dir/uml.log" 2>&1 3>"$run_dir/stdout" 4>"$run_dir/console" 5>"$run_dir/stderr" &
machine_pid=$!
(
  sleep "$timeout_seconds" &
  trap 'kill $! 2>/dev/null; exit 0' TERM
  wait $!
  touch "$run_dir/timed-out"
  stop_machine
) &
watchdog_pid=$!
set +e
wait "$machine_pid"
machine_status=$?
set -e
stop_machine # helper processes that outlived the kernel process
machine_pid=
kill "$watchdog_pid" 2>/dev/null || true
wait "$watchdog_pid" 2>/dev/null || true
watchdog_pid=
# A machine that died before opening its consoles leaves a `cat` blocked in open(): open each fifo
# once for writing so every `cat` sees end-of-file.
for fifo in stdout stderr console; do : 2>/dev/null <>"$run_dir/$fifo"; done
wait "${drain_pids[@]}" 2>/dev/null || true
drain_pids=()

if [ -f "$run_dir/exit-code" ]; then exit "$(cat "$run_dir/exit-code")"; fi
if [ -f "$run_dir/timed-out" ]; then
  echo "run-in-uml: the command did not finish within ${timeout_seconds}s; guest console:" >&2
else
  echo "run-in-uml: the machine stopped without the command's exit code (status $machine_status); guest console:" >&2
fi
tail -n 40 "$run_dir/console.log" "$run_dir/uml.log" >&2 2>/dev/null || true
[ -f "$run_dir/timed-out" ] && exit 124
exit 125
