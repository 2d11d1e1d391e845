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

.PHONY: deps build test demo bench format clean sanitize fuzz

deps:
	@scripts/install-deps.sh $(DEB_PACKAGES)

# Extra CMake options, e.g. CMAKE_FLAGS="-DDKWS_MARCH=x86-64-v3" for an AVX2 build (README).
CMAKE_FLAGS ?=
build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The test suite under AddressSanitizer + UndefinedBehaviorSanitizer (-O1 -g) in its own build
# folder; SANITIZE_TESTS="-R regex" runs a subset (CI's is in .ci/run).
SANITIZE_BUILD ?= build-sanitize
SANITIZE_TESTS ?=
sanitize: deps
	@cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
	  -DCMAKE_C_FLAGS_DEBUG="-O1 -g" -DDKWS_SANITIZE=ON $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(SANITIZE_BUILD) -j$(JOBS)
	cd $(SANITIZE_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS) $(SANITIZE_TESTS)

# libFuzzer targets (fuzz/, docs/fuzzing.md) built with clang under ASan + UBSan, then each run
# for FUZZ_SECONDS from the committed corpus; new inputs and crashes stay in the build folder.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	@scripts/install-deps.sh clang-14 libclang-rt-14-dev
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DCMAKE_C_FLAGS_DEBUG="-O1 -g" \
	  -DDKWS_FUZZ=ON -DBUILD_TESTING=OFF $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_all
	@scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: build
	@scripts/demo.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp' '*.h' '*.c')

clean:
	rm -rf $(BUILD)
