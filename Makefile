# Klaxon's two commands are `make run` and `make test`; `make lint` keeps the
# code clean. Everything a target needs is installed or started by the target.

GO        ?= go
BIN       := $(CURDIR)/bin
TEMPORAL  := $(BIN)/temporal
TEMPORAL_VERSION := v1.5.1
export KLAXON_TEMPORAL_CLI := $(TEMPORAL)

.PHONY: all build run test test-race lint bench fuzz tools clean

all: build

build:
	$(GO) build -o $(BIN)/klaxon ./cmd/klaxon

## run: everything on this machine, no accounts (Temporal + UI, Postgres, simulator, mail sink).
run: build $(TEMPORAL)
	$(BIN)/klaxon dev

## test: the whole suite — unit tests and integration tests against a real
## Postgres and a real Temporal dev server.
test: $(TEMPORAL)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

test-race: $(TEMPORAL)
	$(GO) test -race -count=1 -timeout 45m ./...

## lint: gofmt, vet, staticcheck, errcheck and workflowcheck (pinned in go.mod).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool errcheck -ignoretests -exclude .errcheck-excludes ./...
	$(GO) tool workflowcheck ./workflows/...

## bench: the benchmarks whose figures are in BENCHMARKS.md.
bench: $(TEMPORAL)
	$(GO) test -run '^$$' -bench . -benchtime 3s -timeout 30m ./...

## fuzz: run every fuzz target for FUZZTIME each (their seed corpora also run in `make test`).
FUZZTIME ?= 20s
FUZZ_TARGETS := ./phone:FuzzNormalize ./gateway:FuzzParseInboundSMS ./channel:FuzzParse \
	./workflows:FuzzParsePageCommand ./sms:FuzzFit ./sms:FuzzSplit
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz $$pkg $$name"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

tools: $(TEMPORAL)

# The temporal CLI embeds the dev server and its Web UI. Reuse one already
# installed at the pinned version; otherwise build it from the module proxy.
$(TEMPORAL):
	@mkdir -p $(BIN)
	@existing=$$(command -v temporal || echo "$$($(GO) env GOPATH)/bin/temporal"); \
	if [ -x "$$existing" ] && $(GO) version -m "$$existing" 2>/dev/null | grep -qE "^\s+mod\s+github.com/temporalio/cli\s+$(TEMPORAL_VERSION)\b"; then \
		ln -sf "$$existing" $@; echo "using $$existing"; \
	else \
		echo "installing temporal CLI $(TEMPORAL_VERSION) (a few minutes, once)"; \
		GOBIN=$(BIN) $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_VERSION); \
	fi

clean:
	rm -rf $(BIN) .klaxon
