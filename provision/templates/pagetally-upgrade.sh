#!/bin/sh
# Apply security updates to the real root, then reboot into them.
# With overlayroot active, anything written to / goes to RAM and is lost at reboot, so the
# upgrade runs in overlayroot-chroot, which mounts the lower root read-write for it.
set -eu

in_root() {
    if grep -q ' /media/root-ro ' /proc/mounts; then
        overlayroot-chroot "$@"
    else
        "$@"
    fi
}

in_root apt-get update -q
in_root unattended-upgrade -v
if [ -e /media/root-ro/var/run/reboot-required ] || [ -e /var/run/reboot-required ]; then
    systemctl reboot
fi
