# Shared settings for the libvirt scripts; sourced, not run.
# shellcheck shell=bash disable=SC2034
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# The libvirt the series targets, exactly: Debian 13's (and Debian 12's
# from bookworm-backports), from trixie's source index.
LIBVIRT_VERSION=11.3.0-3+deb13u3
LIBVIRT_UPSTREAM=${LIBVIRT_VERSION%-*}
LIBVIRT_SUITE=trixie
LV_PATCHES=$TOP/libvirt/patches
LV_SRC=$BUILD/libvirt               # git tree: base + the series
LV_OBJ=$LV_SRC/build                # meson build directory
LV_CACHE=$CACHE/libvirt
LV_DL=$LV_CACHE/source/$LIBVIRT_VERSION
LV_PRISTINE=$LV_CACHE/pristine/$LIBVIRT_VERSION   # with Debian's patches
