# netledger: the two set-up commands are `make run` and `make test` (see README.md).
# Each installs what it needs first (scripts/install-deps is idempotent and quick when done).

BUILD      ?= build
# One clang build serves both sanitizer stages: every library and unit-test binary is compiled
# with ASan+UBSan (and libFuzzer's coverage instrumentation, inert without libFuzzer's main);
# only the fuzz mains link -fsanitize=fuzzer.
SAN_BUILD  ?= build-san
FUZZ_SECONDS ?= 10
JOBS       ?= $(shell nproc)
# Line tables only: enough for symbolized sanitizer and crash stack traces, and about half the
# compile time of full -g on these template-heavy (Boost) translation units.
DEBUG_INFO ?= -g1
# Unity builds (several .cc per compiler run): about half the CPU of a full build, which is
# what `make test` on a fresh machine pays twice. UNITY=OFF for quick edit-compile loops.
UNITY      ?= ON
SOURCES = $(shell git ls-files '*.cc' '*.h' 2>/dev/null)
# The unit-test binaries (one per library); the sanitizer build builds these and the fuzzers.
# The integration suite drives the release netledgerd binary in the unit-test stage.
UNIT_TESTS = common_test strictjson_test config_test addr_test alloc_test metrics_test http_test httpclient_test webhooks_test \
             ledger_test store_test cli_test server_test engine_test vendor_test observation_test \
             wire_test agent_test cni_test dhcp_test enforce_test

.PHONY: all deps web build test unit-test san-build asan-test fuzz bench run cluster tour fmt clean

all: build

deps:
	@scripts/install-deps

# The dashboard (web/, Vite) is built first: CMake embeds web/dist into netledgerd.
web: deps
	@scripts/build-web

build: deps web
	@cmake -G Ninja -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNETLEDGER_WERROR=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$(DEBUG_INFO) -O2 -DNDEBUG" \
	  -DNETLEDGER_TESTS=ON -DNETLEDGER_BENCH=ON -DCMAKE_UNITY_BUILD=$(UNITY) >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)

# The full gate: warnings as errors (g++ and clang), ctest, the unit tests again under
# ASan+UBSan, and every fuzz target for a bounded time.
test: unit-test asan-test fuzz
	@echo "make test: all stages passed"

unit-test: build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) || \
	  { scripts/ctest-failures $(BUILD); exit 1; }

# Debug (assertions on) -O1, clang, ASan+UBSan with UB fatal, -Werror. asan-test and fuzz
# share it: one compile of the code base instead of two.
san-build: deps web
	@CXX=clang++ cmake -G Ninja -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="$(DEBUG_INFO) -O1" \
	  -DNETLEDGER_FUZZ=ON -DNETLEDGER_TESTS=ON -DNETLEDGER_BENCH=OFF -DCMAKE_UNITY_BUILD=$(UNITY) >/dev/null
	@ninja -C $(SAN_BUILD) -j $(JOBS) $(UNIT_TESTS) fuzzers

asan-test: san-build
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(SAN_BUILD) --output-on-failure -j $(JOBS) -LE integration || \
	  { scripts/ctest-failures $(SAN_BUILD); exit 1; }

fuzz: san-build
	@scripts/run-fuzzers $(SAN_BUILD)/bin $(FUZZ_SECONDS)

bench: build
	@ninja -C $(BUILD) -j $(JOBS) alloc_bench store_bench http_load seed_store vendor_bench \
	  pcap_gen agent_bench enforce_bench
	@python3 bench/report.py

# Installs deps, builds, and starts netledgerd on 127.0.0.1:8080 (data in ./netledger-data),
# printing the admin token and a CLI tour. `make tour` shows the offline `netledger calc` tools.
run: build
	@scripts/run-netledgerd

# Replicas to try: a 3-member etcd on loopback and three netledgerd on it (docs/REPLICAS.md).
cluster: build
	@python3 scripts/cluster.py

tour: build
	@scripts/calc-tour $(BUILD)/bin/netledger

fmt:
	@clang-format -i $(SOURCES)

clean:
	rm -rf $(BUILD) $(SAN_BUILD) build-asan build-fuzz
