#!/bin/sh
# PID 1 of the IPVS machine's initramfs (busybox sh; the initramfs holds only busybox, this file
# and overlay.ko). It makes the host's root file system the guest's root: hostfs read-only
# underneath, a tmpfs on top so the guest can write without touching the host, then hands over to
# the session script (see run-in-uml.sh). Both paths come on the kernel command line.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

halt() {
  echo "kubelvs IPVS machine init: $*" >/dev/console
  poweroff -f
}

kernel_parameter() { sed -n "s/.*$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
run_dir=$(kernel_parameter kubelvs_run)
session_script=$(kernel_parameter kubelvs_session)
if [ -z "$run_dir" ] || [ -z "$session_script" ]; then halt "kubelvs_run= or kubelvs_session= missing"; fi
modprobe overlay || halt "modprobe overlay failed"
mkdir -p /host /layer /root
mount -t hostfs -o ro,/ none /host || halt "cannot mount the host root (hostfs)"
mount -t tmpfs -o mode=0755 tmpfs /layer || halt "cannot mount the tmpfs layer"
mkdir -p /layer/upper /layer/work
mount -t overlay overlay -o lowerdir=/host,upperdir=/layer/upper,workdir=/layer/work /root ||
  halt "cannot mount the overlay root"
for fs in proc sys dev; do mount --move "/$fs" "/root/$fs" || halt "cannot move /$fs"; done
[ -r "/root$session_script" ] || halt "cannot read $session_script"
exec switch_root /root /bin/bash "$session_script" "$run_dir"
