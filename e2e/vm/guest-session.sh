#!/bin/bash
# PID 1 of the IPVS machine once the overlay root is in place (started by initramfs-init.sh).
# Prepares a minimal system (devices, module loading, the kernel modules the IPVS tests need,
# read-write host mounts), runs the caller's command with its stdout/stderr on the consoles that
# run-in-uml.sh drains, records the exit code in the run directory and powers the machine off.
# PID 1 must never exit (the kernel would panic), so nothing here uses `set -e`: every failure is
# reported and ends in power-off, and run-in-uml.sh turns a missing exit code into 125.
run_dir=$1
# shellcheck source=/dev/null
. "$run_dir/boot.env" # BUSYBOX KERNEL_VERSION MODULES_DIR STDOUT_TTY STDERR_TTY RW_DIRS (array)
bb=$BUSYBOX
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

power_off() {
  "$bb" sync
  "$bb" poweroff -f
  sleep 10 # poweroff -f does not return; never let PID 1 run off the end
}

machine_error() {
  echo "IPVS machine: $*" >"$STDERR_TTY"
  "$bb" stty -F "$STDERR_TTY" raw # waits until the message has left the console
  power_off
}

# The consoles are ttys: without raw mode the line discipline would turn \n into \r\n.
"$bb" stty -F "$STDOUT_TTY" raw -echo
"$bb" stty -F "$STDERR_TTY" raw -echo

"$bb" mkdir -p /dev/pts /dev/shm /run /tmp
"$bb" mount -t devpts -o mode=0620,ptmxmode=0666 devpts /dev/pts || machine_error "cannot mount /dev/pts"
"$bb" mount -t tmpfs tmpfs /dev/shm || machine_error "cannot mount /dev/shm"
# A fresh /run: the host's (seen through the overlay) holds the host's sockets and pid files.
"$bb" mount -t tmpfs -o mode=0755 tmpfs /run || machine_error "cannot mount /run"
"$bb" mkdir -p /run/netns /run/kubelvs-vm/bin
"$bb" ln -sfn /proc/self/fd /dev/fd
"$bb" ln -sfn /proc/self/fd/0 /dev/stdin
"$bb" ln -sfn /proc/self/fd/1 /dev/stdout
"$bb" ln -sfn /proc/self/fd/2 /dev/stderr
"$bb" hostname ipvs-machine
"$bb" ip link set lo up

# The run directory (exit code) and the caller's read-write directories are the host's own.
for dir in "$run_dir" "${RW_DIRS[@]}"; do
  "$bb" mount -t hostfs -o "$dir" none "$dir" || machine_error "cannot mount host directory $dir read-write"
done

# Kernel modules come from the unpacked user-mode-linux package in the host's cache. The kernel
# runs /proc/sys/kernel/modprobe for modules it needs on its own (ip_vs asks for crc32c and the
# schedulers by name); the host has no kmod, so point it at busybox's modprobe.
"$bb" mkdir -p /lib/modules
"$bb" ln -sfn "$MODULES_DIR" "/lib/modules/$KERNEL_VERSION"
"$bb" ln -sfn "$bb" /run/kubelvs-vm/bin/modprobe
echo /run/kubelvs-vm/bin/modprobe >/proc/sys/kernel/modprobe
modules=(
  nf_conntrack ip_vs
  ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq
  ip_vs_fo ip_vs_ovf ip_vs_mh ip_vs_pe_sip
  veth dummy bridge
  ipip ip_gre fou ip6_tunnel ip6_gre fou6 sit
)
for module in "${modules[@]}"; do
  "$bb" modprobe "$module" || machine_error "modprobe $module failed"
done

# command.sh (written by run-in-uml.sh) sets the environment and the working directory itself.
/bin/bash "$run_dir/command.sh" </dev/null >"$STDOUT_TTY" 2>"$STDERR_TTY"
echo $? >"$run_dir/exit-code"
# tcsetattr(TCSADRAIN) returns only once everything written to the consoles has been sent.
"$bb" stty -F "$STDOUT_TTY" raw
"$bb" stty -F "$STDERR_TTY" raw
power_off
