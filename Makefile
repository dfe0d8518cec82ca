# Hookline. `make` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Lambda bootstraps: static, stripped, arm64 (provided.al2023).
# local-invoke builds them for this machine with LAMBDA_ARCH.
LAMBDA_ARCH ?= arm64
LAMBDA_GO  = GOOS=linux GOARCH=$(LAMBDA_ARCH) CGO_ENABLED=0 $(GO) build -trimpath -tags lambda.norpc -ldflags='-s -w'
FUZZTIME  ?= 10s
# Tests run under the race detector where it can work (cgo and a C
# compiler); RACE= turns it off.
RACE      ?= $(shell [ "$$($(GO) env CGO_ENABLED)" = 1 ] && command -v "$$($(GO) env CC)" >/dev/null && echo -race)

.PHONY: help
help: ## list the targets
	@grep -E '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-24s %s\n", $$1, $$2}'

.PHONY: deps
deps: ## install Go modules and the npm test servers (DynamoDB emulator)
	$(GO) mod download
	cd infra/local && npm ci --no-audit --no-fund --loglevel=error

# dynalite, for local-invoke (make deps reinstalls it every time). Its
# output goes to stderr: local-invoke's stdout holds only the responses
# (npm ci prints "added N packages" on stdout even at --loglevel=error).
infra/local/node_modules/.package-lock.json: infra/local/package-lock.json
	@echo 'cd infra/local && npm ci' >&2
	@cd infra/local && npm ci --no-audit --no-fund --loglevel=error >&2

.PHONY: build
build: ## build bin/hookline
	$(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(BIN)/hookline ./cmd/hookline

.PHONY: run
run: build ## run the local service on 127.0.0.1:8080 (HOOKLINE_ADDR)
	./$(BIN)/hookline serve

.PHONY: test
test: deps ## run every test (unit, integration against dynalite, the API fuzz's short run, short fuzzing), with -race where it works
	$(GO) vet ./...
	$(GO) test $(RACE) -tags integration -count=1 -timeout 20m ./...
	$(MAKE) fuzz

# The API fuzz (infra/apifuzz). `make test` runs it too, through go test,
# at its defaults: 150 requests per store within 20 s each. Its options,
# e.g. FUZZ_API_FLAGS='-apifuzz.seed=7 -apifuzz.stores=embedded'
# (go test ./infra/apifuzz -args -h lists them).
FUZZ_API_REQUESTS ?= 20000
FUZZ_API_FLAGS    ?=

.PHONY: fuzz-api
fuzz-api: build deps ## fuzz bin/hookline serve's HTTP API on both stores: FUZZ_API_REQUESTS (20,000) hostile requests each; fails on a 5xx, a dead server or anything stored by a refused request, and prints 5xx and peak RSS per store (FUZZ_API_FLAGS)
	$(GO) test -tags integration -count=1 -timeout 0 -run '^TestAPIFuzz$$' -v ./infra/apifuzz \
	  -args -apifuzz.hookline=$(CURDIR)/$(BIN)/hookline -apifuzz.requests=$(FUZZ_API_REQUESTS) -apifuzz.duration=45m $(FUZZ_API_FLAGS)

.PHONY: testdata
testdata: ## regenerate shared/jsone/testdata/corpus.json with the reference JSON-e (npm json-e, pinned)
	cd shared/jsone/testdata/gen && npm ci --no-audit --no-fund --loglevel=error && node generate.js

.PHONY: fuzz
fuzz: ## run each fuzz target for FUZZTIME (default 10s)
	@set -e; for target in $$(grep -rl --include='*_test.go' '^func Fuzz' shared cmd schemas 2>/dev/null | xargs -r -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$target/*_test.go | sed -E 's/^func (Fuzz[A-Za-z0-9_]*).*/\1/'); do \
	    echo "fuzz $$target $$f"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) ./$$target; \
	  done; \
	done

.PHONY: bench
bench: deps ## run every benchmark
	$(GO) test -tags integration -run '^$$' -bench . -benchmem ./...

.PHONY: bench-memory
bench-memory: ## RSS of `hookline serve` (a child process) with 10,000 hooks after 100,000 fires, and its heap profile's top
	$(GO) test -run '^$$' -bench '^BenchmarkServeMemory$$' -benchtime 1x -v ./cmd/hookline

# bench-http's options, e.g. BENCH_HTTP_FLAGS='-rounds 1 -ops get -clients 8'
# (go run ./infra/benchhttp -h lists them).
BENCH_HTTP_FLAGS ?=

.PHONY: bench-http
bench-http: build ## measure the hooks API over HTTP: bin/hookline serve (getHook, triggerHook, ping at 2, 8, 16 Hawk-signed clients) beside a trivial server's ceiling, 3 rounds (BENCH_HTTP_FLAGS)
	$(GO) run ./infra/benchhttp -hookline $(BIN)/hookline $(BENCH_HTTP_FLAGS)

.PHONY: bench-bodies
bench-bodies: build ## peak RSS of bin/hookline serve under hostile bodies (near and over each route's limit, failing items, deep nesting) from 48 clients, 600 requests (BENCH_BODIES_FLAGS)
	$(GO) run ./infra/bodyload -hookline $(BIN)/hookline $(BENCH_BODIES_FLAGS)

.PHONY: screenshots
screenshots: ## refresh the console screenshots in docs/ (runs the browser tests; needs chromium)
	mkdir -p docs
	HOOKLINE_SCREENSHOTS=$(CURDIR)/docs $(GO) test -tags integration -count=1 -run '^TestBrowser_(Scenario|ForbiddenEdit|ScheduleOutcomesNotify)$$' ./shared/console/

# Tracked paths exempt from the no-binaries, no-files-over-1-MB check
# (space-separated). Keep it empty unless such a file truly belongs in git.
LINT_ALLOW ?=

.PHONY: lint
lint: ## gofmt, go vet, staticcheck, the import rule, go.mod tidiness, the JSON-e corpus, no binaries or files over 1 MB in git (LINT_ALLOW)
	@bash .ci/check-tracked-files $(LINT_ALLOW)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags integration ./...
	$(GO) tool staticcheck -tags integration ./...
	$(GO) test -count=1 ./infra/archtest
	@tmp=$$(mktemp -d); cp go.mod go.sum "$$tmp"/; $(GO) mod tidy; \
	  if ! cmp -s go.mod "$$tmp"/go.mod || ! cmp -s go.sum "$$tmp"/go.sum; then echo "go.mod/go.sum are not tidy (go mod tidy would change them):"; \
	  diff -u "$$tmp"/go.mod go.mod; diff -u "$$tmp"/go.sum go.sum; cp "$$tmp"/go.mod "$$tmp"/go.sum .; rm -rf "$$tmp"; exit 1; fi; rm -rf "$$tmp"
	@$(MAKE) --no-print-directory check-testdata

# The corpus must be what the pinned reference JSON-e makes of cases.js.
# Without Node it is skipped, except under CI=true.
.PHONY: check-testdata
check-testdata: ## check shared/jsone/testdata/corpus.json is what `make testdata` generates (needs node)
	@if ! command -v node >/dev/null 2>&1; then \
	  if [ "$$CI" = true ]; then echo "check-testdata: node is required under CI=true"; exit 1; fi; \
	  echo "check-testdata: skipped, node is not installed"; exit 0; fi; \
	corpus=shared/jsone/testdata/corpus.json; saved=$$(mktemp); cp $$corpus "$$saved"; \
	$(MAKE) --no-print-directory -s testdata >/dev/null || { cp "$$saved" $$corpus; rm -f "$$saved"; exit 1; }; \
	if ! cmp -s "$$saved" $$corpus; then echo "$$corpus is not what \`make testdata\` generates from cases.js:"; \
	  diff -u "$$saved" $$corpus | head -40; cp "$$saved" $$corpus; rm -f "$$saved"; exit 1; fi; rm -f "$$saved"

.PHONY: clean
clean: ## remove build output and local data
	rm -rf $(BIN) .aws-sam .hookline

# SAM runs these with ARTIFACTS_DIR set (BuildMethod: makefile), one per
# AWS::Serverless::Function in template.yaml (infra/templatetest checks it).
LAMBDA_OUT = $(if $(ARTIFACTS_DIR),$(ARTIFACTS_DIR),$(error ARTIFACTS_DIR is not set: `sam build` sets it; `make lambdas` builds them all))/bootstrap

.PHONY: build-ApiFunction build-WebhookFunction build-SchedulerFunction build-TriggerFunction
build-ApiFunction: ## SAM build target for functions/api
	$(LAMBDA_GO) -o $(LAMBDA_OUT) ./functions/api

build-WebhookFunction: ## SAM build target for functions/webhook
	$(LAMBDA_GO) -o $(LAMBDA_OUT) ./functions/webhook

build-SchedulerFunction: ## SAM build target for functions/scheduler
	$(LAMBDA_GO) -o $(LAMBDA_OUT) ./functions/scheduler

build-TriggerFunction: ## SAM build target for functions/trigger
	$(LAMBDA_GO) -o $(LAMBDA_OUT) ./functions/trigger

.PHONY: lambdas
lambdas: ## build every Lambda bootstrap (linux/arm64) into bin/lambda/<LogicalId>/ and list sizes
	@set -e; for f in ApiFunction WebhookFunction SchedulerFunction TriggerFunction; do \
	  $(MAKE) --no-print-directory build-$$f ARTIFACTS_DIR=$(CURDIR)/$(BIN)/lambda/$$f; \
	done
	@ls -l $(BIN)/lambda/*/bootstrap

# AWS's Lambda Runtime Interface Emulator, the program `sam local invoke`
# runs inside its containers, at the version go.mod pins as a tool.
RIE_PKG := github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

$(BIN)/aws-lambda-rie: go.mod go.sum
	@echo 'build $@ ($(RIE_PKG))' >&2
	@CGO_ENABLED=0 $(GO) build -o $@ $(RIE_PKG) >&2

FUNCTION ?= ApiFunction
EVENT    ?=
ENV_VARS ?= infra/events/env.json
SET      ?=
SEED     ?=
LOCAL    := $(BIN)/local

.PHONY: local-invoke
local-invoke: $(BIN)/aws-lambda-rie infra/local/node_modules/.package-lock.json ## invoke FUNCTION with EVENT under AWS's Runtime Interface Emulator against a fresh dynalite (ENV_VARS=file, SET='NAME=VALUE ...', SEED=api events first); Linux only
	@test -n "$(EVENT)" || { echo 'EVENT is required, e.g. make local-invoke FUNCTION=ApiFunction EVENT=infra/events/api-get-hook.json'; exit 2; }
	@for f in $(FUNCTION) $(if $(SEED),ApiFunction); do \
	  $(MAKE) -s --no-print-directory build-$$f ARTIFACTS_DIR=$(CURDIR)/$(LOCAL)/$$f LAMBDA_ARCH=$$($(GO) env GOARCH) || exit; \
	done
	@$(GO) run ./infra/localinvoke -function $(FUNCTION) -bootstrap $(LOCAL)/$(FUNCTION)/bootstrap \
	  -emulator $(BIN)/aws-lambda-rie -env $(ENV_VARS) $(foreach s,$(SET),-set '$(s)') \
	  $(if $(SEED),-seed-bootstrap $(LOCAL)/ApiFunction/bootstrap $(foreach e,$(SEED),-seed $(e))) $(EVENT)

.PHONY: test-infra
test-infra: deps ## template checks and the Lambda runtime tests (real bootstraps, events in infra/events)
	$(GO) test -tags integration -count=1 -v ./infra/...

# The bridge's container image, built without a Docker engine
# (infra/bridge/mkimage, go-containerregistry). infra/bridge/Dockerfile
# builds the same for users with Docker.
IMAGE_ARCH ?= $(shell $(GO) env GOARCH)
IMAGE_TAG  ?= hookline/bridge:$(VERSION)
IMAGE_OUT  ?= dist/bridge-image.tar

.PHONY: image
image: ## build dist/bridge-image.tar, the bridge image for `docker load -i` (IMAGE_ARCH=arm64, IMAGE_TAG=..., IMAGE_OUT=...)
	@mkdir -p $(dir $(IMAGE_OUT))
	CGO_ENABLED=0 GOOS=linux GOARCH=$(IMAGE_ARCH) $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(IMAGE_OUT).bridge ./cmd/bridge
	$(GO) run ./infra/bridge/mkimage -binary $(IMAGE_OUT).bridge -arch $(IMAGE_ARCH) \
	  -certs /etc/ssl/certs/ca-certificates.crt -tag $(IMAGE_TAG) -o $(IMAGE_OUT)
	@rm -f $(IMAGE_OUT).bridge
	@ls -l $(IMAGE_OUT)
