# The two entry points: `make demo` (the main job) and `make test`. Both install what they need.
BUILD ?= build
JOBS ?= $(shell nproc)
DEB_PACKAGES := cmake g++ make pkg-config libsndfile1-dev libsamplerate0-dev nlohmann-json3-dev \
  libcli11-dev libfmt-dev libgtest-dev libgmock-dev libbenchmark-dev libsqlite3-dev
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
