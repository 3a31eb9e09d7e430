# A thin front door over CMake. `make` builds build/irisx; `make run` starts it
# on conf/; `make test` runs every test through ctest; `make install` installs
# under PREFIX (default /usr/local), with DESTDIR for a staging root.
BUILD      ?= build
SAN_BUILD  ?= build-san
GENERATOR  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
CMAKE_OPTS ?=
WERROR     := $(if $(filter true,$(CI)),ON,OFF)
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 300
PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: all deps build install run test bench fuzz clean format

all: build

deps:
	@scripts/install-deps.sh

# Configured every time, so that options such as CI's -Werror always apply.
build:
	@cmake -S . -B $(BUILD) $(GENERATOR) $(CMAKE_OPTS) -DIRISX_WERROR=$(WERROR) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# The prefix is compiled in (irisx's fallback prompts directory), hence the
# configure step with it before building.
install:
	@cmake -S . -B $(BUILD) $(GENERATOR) $(CMAKE_OPTS) -DIRISX_WERROR=$(WERROR) \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

run: deps build
	$(BUILD)/irisx -c conf -s var

# The sanitizer build (clang, ASan + UBSan) carries the libFuzzer targets; each
# runs briefly here. Under CI=true it also re-runs the unit tests.
SAN_LABELS := $(if $(filter true,$(CI)),'unit|fuzz','fuzz')
test: deps build
	@CC=clang cmake -S . -B $(SAN_BUILD) $(GENERATOR) $(CMAKE_OPTS) -DIRISX_WERROR=$(WERROR) \
		-DIRISX_SANITIZE=ON -DIRISX_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L $(SAN_LABELS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: deps build
	bench/run.sh $(BUILD)

fuzz: deps
	@CC=clang cmake -S . -B $(SAN_BUILD) $(GENERATOR) $(CMAKE_OPTS) -DIRISX_WERROR=$(WERROR) \
		-DIRISX_SANITIZE=ON -DIRISX_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
	@cmake --build $(SAN_BUILD) -j $(JOBS)
	@for f in $(SAN_BUILD)/tests/fuzz_*; do \
		echo "== $$f ($(FUZZ_SECONDS) s)"; tests/fuzz/run.sh $$(realpath $$f) \
		$$(pwd)/tests/fuzz/corpus/$$(basename $$f) $(FUZZ_SECONDS) || exit 1; done

clean:
	rm -rf $(BUILD) $(SAN_BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
