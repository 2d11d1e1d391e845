# The two entry points: `make demo` (the main job) and `make test`. Both install what they need.
BUILD ?= build
JOBS ?= $(shell nproc)
DEB_PACKAGES := cmake g++ make pkg-config libsndfile1-dev libsamplerate0-dev nlohmann-json3-dev \
  libcli11-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev
DEB_PACKAGES += libonnx-dev libprotobuf-dev   # ONNX export: ONNX protobuf classes + C++ checker
# ONNX parity test: onnxruntime from npm under Node.js. Only where no npm is on PATH, since
# NodeSource's nodejs ships its own npm and conflicts with Debian's.
DEB_PACKAGES += $(if $(shell command -v npm),,nodejs npm)
DEB_PACKAGES += chromium chromium-driver   # headless browser for the sweep report page test
DEB_PACKAGES += gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm   # firmware check (deploy)
DEB_PACKAGES += espeak-ng flite sox   # dkws data synth: text-to-speech voices and rate/pitch changes
DEB_PACKAGES += postgresql libpq-dev   # sweep storage on PostgreSQL, and its throw-away test server

.PHONY: deps build test demo bench format clean

deps:
	@scripts/install-deps.sh $(DEB_PACKAGES)

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release > /dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	@scripts/demo.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h' '*.c')

clean:
	rm -rf $(BUILD)
