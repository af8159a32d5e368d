# emc2 — the README's commands. `make run` trains EMC² on the embedded data; `make test` runs every test.
GO      ?= go
BIN     := bin/emc2
WASMEXEC := $(shell $(GO) env GOROOT)/lib/wasm

.PHONY: all build run test vet fmt-check test-go test-wasm bench bench-torch clean

all: build

# bin/emc2 embeds the browser trainer (web/app with dist/ built by `make web`), so `emc2 serve` needs
# nothing beside it.
build: web
	$(GO) build -o $(BIN) ./native

# The browser trainer's built files in web/app/dist/: the Go core as WebAssembly (wasm/), Go's
# wasm_exec.js, the GPU backend's pass encoder (core/backend/gpu/pass.js) and Chart.js from node_modules (`npm ci`; without it the page says charts are missing).
# The engine is built without the built-in data (-tags fetchdata): the page's worker fetches it from
# `emc2 serve` (data/default/), so the wasm is 3.4 MB smaller and the browser caches the data apart.
# wasmdata then joins the data segments that Go's linker splits at every zero run: the same memory
# image, 0.12 MB less once compressed.
WEBDIST := web/app/dist
.PHONY: web serve
web:
	@mkdir -p $(WEBDIST)
	GOOS=js GOARCH=wasm $(GO) build -trimpath -tags fetchdata -ldflags='-s -w' -o $(WEBDIST)/emc2.wasm ./wasm
	$(GO) run ./web/internal/wasmdata $(WEBDIST)/emc2.wasm
	@cp "$(WASMEXEC)/wasm_exec.js" core/backend/gpu/pass.js $(WEBDIST)/
	@$(MAKE) --no-print-directory engine-br
	@if [ -f node_modules/chart.js/dist/chart.umd.js ]; then cp node_modules/chart.js/dist/chart.umd.js $(WEBDIST)/; \
	  else echo "warning: node_modules/chart.js is missing (run npm ci): the page will have no charts"; fi

# The engine brotli-compressed at the best level (1.19 MB against 1.62 MB gzipped), which `emc2 serve`
# sends to browsers that accept br. It takes about 20 s on two cores, so it is redone only when the
# engine's bytes changed (bin/emc2.wasm.sha256); without the brotli tool the server gzips instead.
.PHONY: engine-br
engine-br:
	@sum=$$(sha256sum $(WEBDIST)/emc2.wasm | cut -d' ' -f1); \
	if ! command -v brotli >/dev/null; then rm -f $(WEBDIST)/emc2.wasm.br; \
	  echo "note: brotli is not installed (apt-get install brotli): the page's engine goes out gzipped, 1.62 MB instead of 1.19 MB"; \
	elif [ -f $(WEBDIST)/emc2.wasm.br ] && [ "$$(cat bin/emc2.wasm.sha256 2>/dev/null)" = "$$sum" ]; then \
	  touch $(WEBDIST)/emc2.wasm.br; \
	else echo "brotli -q 11 $(WEBDIST)/emc2.wasm (about 20 s, once per engine build)"; \
	  rm -f $(WEBDIST)/emc2.wasm.br && mkdir -p bin && brotli -q 11 -f -o bin/emc2.wasm.br $(WEBDIST)/emc2.wasm && \
	  mv bin/emc2.wasm.br $(WEBDIST)/ && echo "$$sum" > bin/emc2.wasm.sha256; fi

# Build everything and serve the trainer page on http://127.0.0.1:8080/ (ADDR=127.0.0.1:PORT to change).
ADDR ?= 127.0.0.1:8080
serve: build
	./$(BIN) serve --addr $(ADDR)

# Train EMC² with the default configuration on the embedded Fashion-MNIST subset and print the summary
# beside the raw-pixel and random-init floors. Output goes to runs/<timestamp>-.../
run: build
	./$(BIN) train --out runs $(ARGS)

# Every test: vet and gofmt, the Go tests (CPU reference, GPU parity on whatever WebGPU adapter exists),
# the pure-Go packages as WebAssembly, the GPU tests in Chromium, the trainer page end to end, and the
# teaching page.
test: vet fmt-check test-go test-wasm fuzz-smoke test-browser test-trainer test-compare test-teach test-torch

# go vet, natively and for the browser build (with and without the built-in data).
vet:
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet -tags fetchdata ./...

# Fails on any Go file gofmt would change.
fmt-check:
	@out=$$(gofmt -l core native wasm shaders web 2>/dev/null); if [ -n "$$out" ]; then echo "not gofmt-formatted:"; echo "$$out"; exit 1; fi

# The Go tests of every package. The GPU backend's run on their own, after the others: Mesa 22.3's
# lavapipe (Debian 12) can crash executing a command buffer when the machine is overloaded (a
# SIGSEGV inside libvulkan_lvp.so, reproduced with LP_NUM_THREADS=1; README, "Tests"), so they
# do not share the two cores with the CPU-heavy tests.
test-go:
	$(GO) test $$($(GO) list ./... | grep -v /core/backend/gpu$$)
	$(GO) test ./core/backend/gpu/

# The PyTorch bridge (docs/torch/emc2_torch.py): an encoder trained a few steps and exported as
# safetensors, rebuilt as a torch.nn.Module, embeds held-out images as emc2 does (max |diff| <= 1e-4).
# Needs Debian's python3-torch; without it, a SKIPPED line (CI included).
.PHONY: test-torch
test-torch:
	@if ! /usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1; then \
	  echo; echo "*** SKIPPED: PyTorch bridge check (python3-torch is not installed: apt-get install python3-torch) ***"; echo; exit 0; fi; \
	$(GO) test -count=1 -v -run '^TestTorchBridge' ./core/train/

# The pure-Go core packages also run as WebAssembly under Node (the browser build's arithmetic).
test-wasm:
	@if ! command -v node >/dev/null; then \
	  if [ "$$CI" = "true" ]; then echo "FAIL: node is required for the wasm tests"; exit 1; fi; \
	  echo "SKIPPED: wasm tests (node not found)"; exit 0; fi; \
	PATH="$$PATH:$(WASMEXEC)" GOOS=js GOARCH=wasm $(GO) test ./core/rng/ ./core/augment/ ./core/nn/ ./core/objective/ ./core/mcmc/ ./core/optim/ ./core/teach/

# The GPU backend's tests inside headless Chromium (Debian's /usr/bin/chromium, driven by the npm
# package playwright-core; install it with `npm ci`), on SwiftShader (core WebGPU) and on lavapipe
# through ANGLE (compatibility mode). Without node or Chromium: a SKIPPED line, or a failure under
# CI=true. Built into web/build/.
.PHONY: test-browser bench-browser
# NEED_BROWSER(WHAT): skip loudly without node or Chromium, or fail under CI=true.
NEED_BROWSER = why=""; command -v node >/dev/null || why="node not found"; \
	[ -n "$$why" ] || [ -x "$${CHROMIUM:-/usr/bin/chromium}" ] || why="no Chromium at $${CHROMIUM:-/usr/bin/chromium}"; \
	if [ -n "$$why" ]; then \
	  if [ "$$CI" = "true" ]; then echo "FAIL: $(1) need node and Chromium ($$why)"; exit 1; fi; \
	  echo; echo "*** SKIPPED: $(1) ($$why) ***"; echo; exit 0; fi

BROWSER_PREP = set -e; $(call NEED_BROWSER,the browser GPU tests); \
	mkdir -p web/build; cp "$(WASMEXEC)/wasm_exec.js" core/backend/gpu/pass.js web/build/; \
	echo "GOOS=js GOARCH=wasm $(GO) test -c -o web/build/gpu.test.wasm ./core/backend/gpu"; \
	GOOS=js GOARCH=wasm $(GO) test -c -o web/build/gpu.test.wasm ./core/backend/gpu; \
	$(GO) build -o web/build/testserve ./web/internal/testserve

test-browser:
	@$(BROWSER_PREP); node web/test/gpu_test.mjs $(BROWSER_ARGS)

# The trainer page at scale (minutes; not part of `make test`): 3,000 camera-sized photos and the full
# Fashion-MNIST (Debian's dataset-fashion-mnist) load and train in one tab.
.PHONY: test-scale
test-scale: build
	node web/test/scale_test.mjs $(BROWSER_ARGS)

# The trainer page end to end in Chromium on lavapipe (web/test/trainer_test.mjs): load, bad upload,
# train, match the native GPU run, pause, reload, resume, chain inspector, exports, no foreign
# requests. Screenshots land in web/build/screenshots/.
.PHONY: test-trainer
test-trainer: build
	@$(call NEED_BROWSER,the browser trainer tests); \
	node web/test/trainer_test.mjs $(BROWSER_ARGS)

# The page's Compare mode in Chromium on lavapipe (web/test/compare_test.mjs): two methods × one
# batch × one seed on 320 images, a reload after the first run continues the plan, the table equals
# a native `emc2 compare --backend gpu` of the same plan, the report downloads.
.PHONY: test-compare
test-compare: build
	@$(call NEED_BROWSER,the browser compare tests); \
	node web/test/compare_test.mjs $(BROWSER_ARGS)

# The teaching page (web/app/teach.html) in Chromium, on lavapipe and without WebGPU
# (web/test/teach_test.mjs): both parts load, the chain steps exactly as core/mcmc does natively
# (web/internal/teachref writes the reference), the TV distance falls and matches, β in the URL sets
# the target. Screenshots land in web/build/screenshots/teach-*.png.
.PHONY: test-teach
test-teach: build
	@$(call NEED_BROWSER,the teaching page tests); \
	mkdir -p web/build; $(GO) build -o web/build/teachref ./web/internal/teachref; \
	node web/test/teach_test.mjs

# The teaching page's trained encoder, web/app/teach/encoder.safetensors (committed; see
# web/app/teach/ENCODER.md): the default CNN trained by `emc2 train` on the built-in data, 5 epochs,
# seed 1, on the CPU (about 12 minutes on two shared cores), exported as safetensors and converted to F16.
TEACH_RUN := web/build/teach-encoder-run
.PHONY: teach-encoder
teach-encoder: build
	rm -rf $(TEACH_RUN)
	./$(BIN) train --backend cpu --epochs 5 --seed 1 --out $(TEACH_RUN)
	$(GO) run ./core/teach/internal/mkencoder -ckpt "$$(ls -d $(TEACH_RUN)/*/ | head -1)checkpoint.ckpt" -out web/app/teach/encoder.safetensors

# The browser's speed (reported, never asserted): BenchmarkGemm and BenchmarkConvForward inside
# Chromium (see test-browser), then the trainer page beside native on the same adapter
# (web/test/bench_page.mjs: SimCLR and EMC² at B = 32 and 256 on the full built-in data, page
# defaults; first step after Train, steady images/s, engine download). Minutes on lavapipe.
.PHONY: bench-browser
bench-browser: build
	@$(BROWSER_PREP); node web/test/gpu_test.mjs --bench $(BROWSER_ARGS)
	node web/test/bench_page.mjs --json=web/build/bench-page.json $(BENCH_PAGE_ARGS)

# Benchmarks (reported, never asserted): the CPU training step and its kernels.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 20x ./core/train/ ./core/nn/

# PyTorch's CPU eager step for the same CNN, for comparison (needs Debian's python3-torch).
bench-torch:
	/usr/bin/python3 native/bench/torch_step.py

# Every fuzz target for a few seconds each (FUZZTIME=3s): the parsers of outside input (IDX, CIFAR-10,
# STL-10, folder images and the raw browser format, fs paths, checkpoints, safetensors) and the
# server's request handling. Their seed corpora (f.Add and testdata/fuzz/) run in `go test` anyway.
# Longer: `go test -run '^$$' -fuzz '^FuzzReadCIFAR10$$' -fuzztime 10m ./core/data`.
FUZZTIME ?= 3s
FUZZ_TARGETS := \
	./core/data:FuzzReadIDXImages ./core/data:FuzzReadIDXLabels ./core/data:FuzzReadCIFAR10 \
	./core/data:FuzzReadSTL10 ./core/data:FuzzFolderImage ./core/data:FuzzRawImage ./core/data:FuzzOpenFSPaths \
	./core/train:FuzzParseCheckpoint ./core/train:FuzzSafetensorsRoundTrip ./web:FuzzHandlerPath \
	./core/session:FuzzParseCommand
.PHONY: fuzz-smoke
fuzz-smoke:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t#*:}; \
	  echo "$(GO) test -run '^$$' -fuzz '^$$fn$$' -fuzztime $(FUZZTIME) $$pkg"; \
	  $(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg; done

# Remove built binaries and run folders.
clean:
	rm -rf bin runs
