# Klaxon's two commands are `make run` and `make test`; `make lint` keeps the
# code clean. Everything a target needs is installed or started by the target.

GO        ?= go
BIN       := $(CURDIR)/bin
TEMPORAL  := $(BIN)/temporal
TEMPORAL_VERSION := v1.5.1
export KLAXON_TEMPORAL_CLI := $(TEMPORAL)
# Dendrite is the Matrix homeserver the Matrix tests and `klaxon dev` run.
DENDRITE  := $(BIN)/dendrite
DENDRITE_VERSION := v0.13.8
DENDRITE_TOOLS := dendrite generate-keys generate-config create-account
DENDRITE_BINS := $(addprefix $(BIN)/,$(DENDRITE_TOOLS))
export KLAXON_DENDRITE := $(DENDRITE)

.PHONY: all build run test test-race lint bench fuzz tools deps clean screenshots

all: build

build:
	$(GO) build -o $(BIN)/klaxon ./cmd/klaxon

## run: everything on this machine, no accounts (Temporal + UI, Postgres, simulator, mail sink).
run: build $(TEMPORAL)
	$(BIN)/klaxon dev

## test: the whole suite — unit tests and integration tests against a real
## Postgres, a real Temporal dev server and the real chat, directory and
## monitoring servers the bridge and integrations talk to.
test: $(TEMPORAL) $(DENDRITE_BINS) deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

test-race: $(TEMPORAL) $(DENDRITE_BINS)
	$(GO) test -race -count=1 -timeout 45m ./...

## lint: gofmt, vet, staticcheck, errcheck and workflowcheck (pinned in go.mod).
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool errcheck -ignoretests -exclude .errcheck-excludes ./...
	$(GO) tool workflowcheck ./workflows/...

## screenshots: photograph the web console's main screens in headless Chromium (docs/screenshots/*.png).
screenshots: $(TEMPORAL) deps
	KLAXON_SCREENSHOTS=$(CURDIR)/docs/screenshots $(GO) test -count=1 -run '^TestConsole_Screenshots_' ./cmd/klaxon/

## bench: the benchmarks whose figures are in BENCHMARKS.md.
bench: $(TEMPORAL) $(DENDRITE_BINS)
	$(GO) test -run '^$$' -bench . -benchtime 3s -timeout 30m ./...

## fuzz: run every fuzz target for FUZZTIME each (their seed corpora also run in `make test`).
FUZZTIME ?= 20s
FUZZ_TARGETS := ./phone:FuzzNormalize ./gateway:FuzzParseInboundSMS ./channel:FuzzParse ./irc:FuzzParse ./irc:FuzzSplit ./irc:FuzzHandle \
	./workflows:FuzzParsePageCommand ./sms:FuzzFit ./sms:FuzzSplit
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; echo "fuzz $$pkg $$name"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

tools: $(TEMPORAL) $(DENDRITE_BINS) deps

# The servers the integration tests start on loopback ports of their own:
# IRC (ngircd, InspIRCd), LDAP (slapd, ldap-utils), the console's browser
# (chromium) and Prometheus Alertmanager. Installed from Debian when missing;
# tests start their own instances, so the packages' own services stay off.
DEB_PROGRAMS := /usr/sbin/ngircd:ngircd /usr/sbin/inspircd:inspircd /usr/sbin/slapd:slapd \
	/usr/bin/ldapadd:ldap-utils /usr/bin/chromium:chromium /usr/bin/prometheus-alertmanager:prometheus-alertmanager
deps:
	@missing=""; for p in $(DEB_PROGRAMS); do [ -x "$${p%%:*}" ] || missing="$$missing $${p##*:}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing$$missing (once)"; \
			own=""; [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own=1; }; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >/dev/null; \
			rc=$$?; [ -z "$$own" ] || rm -f /usr/sbin/policy-rc.d; [ $$rc = 0 ] || { echo "could not install$$missing: run 'sudo apt-get install$$missing' and try again"; exit 1; }; \
		else \
			echo "the tests need$$missing: run 'sudo apt-get install$$missing' (Debian or Ubuntu) and try again"; exit 1; \
		fi; \
	fi

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

# Dendrite and its key, config and account tools, at the pinned version:
# each is reused from PATH or GOPATH/bin when `go version -m` shows that
# version, else built once from the module proxy (cgo, for its sqlite;
# about 2 minutes).
$(DENDRITE_BINS):
	@mkdir -p $(BIN)
	@t=$(notdir $@); existing=$$(command -v $$t || echo "$$($(GO) env GOPATH)/bin/$$t"); \
	if [ -x "$$existing" ] && $(GO) version -m "$$existing" 2>/dev/null | grep -qE "^\s+mod\s+github.com/matrix-org/dendrite\s+$(DENDRITE_VERSION)\b"; then \
		ln -sf "$$existing" $@; echo "using $$existing"; \
	else \
		echo "installing $$t $(DENDRITE_VERSION) (about 2 minutes, once)"; \
		CGO_ENABLED=1 GOBIN=$(BIN) $(GO) install github.com/matrix-org/dendrite/cmd/$$t@$(DENDRITE_VERSION); \
	fi

clean:
	rm -rf $(BIN) .klaxon
