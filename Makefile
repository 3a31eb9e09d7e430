# A thin front door over CMake. `make` builds build/irisx; `make run` starts it
# on conf/; `make test` runs every test through ctest.
BUILD      ?= build
SAN_BUILD  ?= build-san
GENERATOR  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CMAKE_OPTS ?=
ifeq ($(CI),true)
CMAKE_OPTS += -DIRISX_WERROR=ON
endif
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 300

.PHONY: all deps build run test bench fuzz clean format

all: build

deps:
	@scripts/install-deps.sh

build:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) $(GENERATOR) $(CMAKE_OPTS)
	@cmake --build $(BUILD) -j $(JOBS)

run: deps build
	$(BUILD)/irisx -c conf -s var

# The sanitizer build (clang, ASan + UBSan) carries the libFuzzer targets; each
# runs briefly here. Under CI=true it also re-runs the unit tests.
SAN_LABELS := $(if $(filter true,$(CI)),'unit|fuzz','fuzz')
test: deps build
	@test -f $(SAN_BUILD)/CMakeCache.txt || CC=clang cmake -S . -B $(SAN_BUILD) $(GENERATOR) \
		$(CMAKE_OPTS) -DIRISX_SANITIZE=ON -DIRISX_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L $(SAN_LABELS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps build
	bench/run.sh $(BUILD)

fuzz: deps
	@test -f $(SAN_BUILD)/CMakeCache.txt || CC=clang cmake -S . -B $(SAN_BUILD) $(GENERATOR) \
		$(CMAKE_OPTS) -DIRISX_SANITIZE=ON -DIRISX_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	@for f in $(SAN_BUILD)/tests/fuzz_*; do \
		echo "== $$f ($(FUZZ_SECONDS) s)"; tests/fuzz/run.sh $$(realpath $$f) \
		$$(pwd)/tests/fuzz/corpus/$$(basename $$f) $(FUZZ_SECONDS) || exit 1; done

clean:
	rm -rf $(BUILD) $(SAN_BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
