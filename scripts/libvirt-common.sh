# Shared settings for the libvirt scripts; sourced, not run.
# shellcheck shell=bash disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# The libvirt Debian 12 ships, exactly: the virtlogd series targets it.
LIBVIRT_VERSION=9.0.0-4+deb12u2
LV_PATCHES=$TOP/libvirt/patches
LV_SRC=$BUILD/libvirt               # git tree: base + the series
LV_OBJ=$LV_SRC/build                # meson build directory
LV_CACHE=$CACHE/libvirt
