# QEMU console log rotation: a patch set on Debian's QEMU 10.0 and 10.2.
# Every target installs what it needs first; see README.rst.
# BASE=10.2 (default 10.0) selects the base of fetch, assemble, build,
# baseline, series and writeback; test runs both.

.PHONY: all deps fetch assemble build baseline guest test demo bench \
        series writeback checkpatch clean libvirt libvirt-series \
        libvirt-writeback

all: build

deps:
	scripts/install-deps.sh

fetch: deps
	scripts/fetch-qemu.sh >/dev/null

assemble: fetch
	scripts/assemble.sh

build: assemble
	scripts/build.sh qemu-system-x86_64

baseline: fetch
	scripts/assemble.sh --baseline
	scripts/build.sh --baseline qemu-system-x86_64

guest: deps
	scripts/guest-image.sh

test:
	scripts/run-tests.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

series: assemble
	scripts/export-series.sh

writeback:
	scripts/writeback.sh

checkpatch: assemble
	scripts/checkpatch.sh

# the libvirt series (libvirt/patches) on Debian's libvirt 11.3: virtlogd,
# libvirtd with the QEMU driver and the unit tests
libvirt: deps
	scripts/fetch-libvirt.sh
	scripts/build-libvirt.sh

libvirt-series: deps
	scripts/export-libvirt-series.sh

libvirt-writeback:
	scripts/libvirt-writeback.sh

clean:
	rm -rf build
