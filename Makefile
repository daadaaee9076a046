# crier - the front door. `make` builds build/crier; `make test` runs every test (plain and
# with AddressSanitizer + UndefinedBehaviorSanitizer); `make run` plays the demo.
# Everything installs what it needs first (scripts/install-deps, silent when nothing is missing).

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
CTEST_ARGS ?=

.PHONY: all deps build build-asan build-fuzz test test-plain test-asan unit run demo bench fuzz lint clean

all: build

deps:
	@scripts/install-deps

$(BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

$(FUZZ_BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
	    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRIER_FUZZ=ON -DCRIER_TESTS=OFF $(CMAKE_ARGS) >/dev/null

$(ASAN_BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	    -DCRIER_SANITIZE=address,undefined $(CMAKE_ARGS) >/dev/null

build: deps $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps $(ASAN_BUILD)/Makefile
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

build-fuzz: deps $(FUZZ_BUILD)/Makefile
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

# All suites run even if one fails; the target fails if any did.
test: build build-asan build-fuzz
	@rc=0; \
	echo "== tests (release build)"; \
	(cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)) || rc=1; \
	echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer)"; \
	(cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)) || rc=1; \
	echo "== short fuzzing runs (libFuzzer)"; \
	(cd $(FUZZ_BUILD) && ctest --output-on-failure -j $(JOBS) -L fuzz) || rc=1; \
	exit $$rc

test-plain: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

test-asan: build-asan
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

unit: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit -LE pg

run: build
	@scripts/demo $(BUILD)/crier

bench: build
	@bench/run-all $(BUILD)

fuzz: build-fuzz
	@fuzz/run-long $(FUZZ_BUILD)

# Functions kept out of src/ (STYLE.md §11).
lint:
	@! grep -rnE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets)\s*\(' src/ \
	    --include='*.c' --include='*.cc' --include='*.h' | grep -v 'snprintf\|vsnprintf' \
	    || (echo "lint: banned function in src/ (see STYLE.md §11)"; exit 1)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
