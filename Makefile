# Thin wrapper over CMake. The two commands of the README:
#   make demo   install what is missing, build, run the main job
#   make check  install what is missing, build with ASan+UBSan and -Werror,
#               run the whole test suite (ctest); then the same suite on the
#               optimised build that `make demo` and users get (-O2 finds
#               bugs the sanitizer build does not, and the other way round)
BUILD ?= build
CHECK_BUILD ?= build-check
OPT_BUILD ?= build-check-opt
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all demo check build deps deps-test install clean

all: build

deps:
	scripts/deps.sh build

deps-test:
	scripts/deps.sh test

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

demo: deps-test build
	scripts/demo.sh $(BUILD)

check: deps-test
	cmake -S . -B $(CHECK_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DKMSDIAG_WERROR=ON -DKMSDIAG_SANITIZE=address,undefined
	cmake --build $(CHECK_BUILD) -j $(JOBS)
	ctest --test-dir $(CHECK_BUILD) --output-on-failure --no-tests=error -j $(JOBS)
	cmake -S . -B $(OPT_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKMSDIAG_WERROR=ON
	cmake --build $(OPT_BUILD) -j $(JOBS)
	ctest --test-dir $(OPT_BUILD) --output-on-failure --no-tests=error -j $(JOBS)

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(CHECK_BUILD) $(OPT_BUILD)
