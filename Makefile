# QEMU console log rotation: a patch set on Debian's QEMU 10.0.
# Every target installs what it needs first; see README.rst.

.PHONY: all deps fetch assemble build baseline guest test demo bench \
        series writeback checkpatch clean

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

clean:
	rm -rf build
