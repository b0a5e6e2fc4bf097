#!/bin/sh
# First boot of a PageTally terminal, run once by cloud-init (runcmd) after it wrote the
# files of user-data. Sets up /data, the app's venv, the secrets, the units, then the
# read-only root; cloud-init reboots afterwards (power_state). Settings come from
# /etc/pagetally/firstboot.env, written by `pagetally provision`.
set -eu

SEED=/boot/firmware/pagetally
VENV=/opt/pagetally/venv
APP_SOURCE=wheel
APP_VERSION=
INDEX_URL=
PANEL=1
# shellcheck source=/dev/null
. /etc/pagetally/firstboot.env

log() {
    echo "pagetally-firstboot: $*"
    logger -t pagetally-firstboot -- "$*" || true
}

# Partition 3 of the boot disk is /data (the tool added it to the image, so the root was
# not grown over it). Formatted here, once. Returns 1 when the card has no partition 3.
data_partition() {
    root=$(findmnt -no SOURCE /)
    disk=/dev/$(lsblk -no PKNAME "$root")
    case "$disk" in
        *[0-9]) part="${disk}p3" ;;
        *) part="${disk}3" ;;
    esac
    if [ ! -b "$part" ]; then
        log "no partition 3 on $disk: the ledger stays on the root, and the root stays writable"
        mkdir -p /data
        return 1
    fi
    if ! blkid -o value -s TYPE "$part" >/dev/null; then
        log "formatting $part for /data"
        mkfs.ext4 -q -L pagetally-data "$part"
    fi
    if ! grep -q '^LABEL=pagetally-data ' /etc/fstab; then
        echo 'LABEL=pagetally-data /data ext4 defaults,noatime,commit=5 0 2' >> /etc/fstab
    fi
    mkdir -p /data
    mountpoint -q /data || mount /data
}

install_app() {
    python3 -m venv "$VENV"
    extra=
    [ "$PANEL" = 1 ] && extra="[panel]"
    if [ "$APP_SOURCE" = wheel ]; then
        wheel=$(find "$SEED" -maxdepth 1 -name 'pagetally-*.whl' | head -n 1)
        [ -n "$wheel" ] || { log "no pagetally wheel in $SEED"; exit 1; }
        "$VENV/bin/pip" install --find-links "$SEED" "$wheel$extra"
    elif [ -n "$INDEX_URL" ]; then
        "$VENV/bin/pip" install --index-url "$INDEX_URL" "pagetally$extra${APP_VERSION:+==$APP_VERSION}"
    else
        "$VENV/bin/pip" install "pagetally$extra${APP_VERSION:+==$APP_VERSION}"
    fi
}

# Secrets were written root-only under /etc/pagetally; they move to /data, which the
# agent's user owns, and leave the root file system.
move_secrets() {
    install -d -o pagetally -g pagetally -m 0750 /data/pagetally
    for name in enrol.token enrol.secret; do
        if [ -f "/etc/pagetally/$name" ]; then
            install -o pagetally -g pagetally -m 0600 "/etc/pagetally/$name" "/data/pagetally/$name"
            rm -f "/etc/pagetally/$name"
        fi
    done
}

enable_units() {
    udevadm control --reload
    udevadm trigger --subsystem-match=tty --subsystem-match=input
    systemctl daemon-reload
    systemctl enable pagetally-enrol.service pagetally-agent.service pagetally-upgrade.timer
    if [ "$PANEL" = 1 ]; then
        systemctl enable pagetally-panel.service
    fi
}

# overlayroot keeps / read-only under a RAM overlay; recurse=0 leaves /data and
# /boot/firmware as they are. Only with a real /data: otherwise the ledger would be in RAM.
read_only_root() {
    raspi-config nonint do_overlayfs 0
    sed -i 's/overlayroot=[^ ]*/overlayroot=tmpfs:recurse=0/' /boot/firmware/cmdline.txt
    log "read-only root enabled from the next boot"
}

if data_partition; then has_data=1; else has_data=0; fi
install_app
move_secrets
enable_units
touch /etc/pagetally/firstboot.done
if [ "$has_data" = 1 ]; then
    read_only_root
fi
log "done"
