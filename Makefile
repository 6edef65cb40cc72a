# Two entry points (README): `make demo` and `make test`. Both set up what they need first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO := demo

.PHONY: demo shared-demo test venv system-deps conformance clean bench bench-backfill scrapy-suite scrapyd

$(PY): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(PY)

venv: $(PY)

# Debian packages the tests use for real, one a line: Chromium for rendering (playwright cannot
# download browsers here), logrotate for the deploy config, the PostgreSQL server for the shared
# store's tests, Prometheus's promtool and node_exporter for the metrics. As root, `make test`
# installs the missing ones and only what they depend on: no recommended packages, never an
# installed package named (apt-get install would upgrade it), never `apt-get upgrade`. Its first
# line says what it installs, and names any installed package a missing one needs a newer
# version of (the only upgrade it makes).
SYSTEM_PACKAGES := \
	chromium \
	logrotate \
	postgresql \
	prometheus \
	prometheus-node-exporter
APT_INSTALL := apt-get install --yes --no-install-recommends
system-deps:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg-query --show --showformat='$${db:Status-Abbrev}' $$pkg 2>/dev/null | grep -q '^ii' || missing="$$missing $$pkg"; \
	done; \
	[ -n "$$missing" ] || exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "missing Debian packages:$$missing (run: sudo $(APT_INSTALL)$$missing)" >&2; exit 1; \
	fi; \
	apt-get update -qq || exit 1; \
	plan=$$($(APT_INSTALL) --simulate $$missing) || exit 1; \
	count=$$(echo "$$plan" | awk '/^Inst / && $$3 !~ /^\[/' | wc -l); \
	upgraded=$$(echo "$$plan" | awk '/^Inst / && $$3 ~ /^\[/ {printf " %s", $$2}'); \
	echo "make system-deps: installing the Debian packages the tests need:$$missing ($$count packages with what they depend on, no recommends)$${upgraded:+; upgrading, because they need newer versions:$$upgraded}"; \
	DEBIAN_FRONTEND=noninteractive $(APT_INSTALL) -q $$missing

# Serve the bundled sample site locally, crawl it, and say where the feeds went.
demo: $(PY)
	$(PY) -m wirecrawler demo --site sample_site --out $(DEMO)

# The shared set-up (several hosts): start PostgreSQL and SeaweedFS here, crawl the sample site as
# two hosts at once (one publishes, the other exits 75), show the publication log, stop them.
SHARED_DEMO := shared-demo
shared-demo: $(PY) system-deps
	$(PY) -m wirecrawler shared-demo --site sample_site --out $(SHARED_DEMO)

# Scrapy's own feed-export tests run on the project's feed storage (tests/scrapy_suite/run.py):
# Scrapy's sdist, fetched once and unpacked into .cache/ (git-ignored), and the extra packages
# its tests import (tests/scrapy_suite/requirements.txt), installed beside the venv's own in
# $(SCRAPY_SUITE_DEPS): on the path of those sub-runs only, since pytest-twisted installed in
# the venv would load into the project's pytest and install the wrong reactor there.
SCRAPY_VERSION := 2.19.0
SCRAPY_SDIST := .cache/scrapy-$(SCRAPY_VERSION).tar.gz
SCRAPY_SDIST_SHA256 := 34130726582b64c91531162ab277c4053e558876d49ba219cb43679e71d80a87
SCRAPY_SUITE := .cache/scrapy-$(SCRAPY_VERSION)
SCRAPY_SUITE_DEPS := $(VENV)/scrapy-suite

$(SCRAPY_SDIST): | $(PY)
	rm -rf .cache/download && mkdir -p .cache/download
	$(PY) -m pip download --quiet --no-binary :all: --no-deps --dest .cache/download scrapy==$(SCRAPY_VERSION)
	echo "$(SCRAPY_SDIST_SHA256)  .cache/download/scrapy-$(SCRAPY_VERSION).tar.gz" | sha256sum --check --quiet
	mv .cache/download/scrapy-$(SCRAPY_VERSION).tar.gz $@ && rm -rf .cache/download

$(SCRAPY_SUITE)/PKG-INFO: $(SCRAPY_SDIST)
	rm -rf $(SCRAPY_SUITE) $(SCRAPY_SUITE).tmp && mkdir -p $(SCRAPY_SUITE).tmp
	tar -xzf $< -C $(SCRAPY_SUITE).tmp --strip-components=1
	mv $(SCRAPY_SUITE).tmp $(SCRAPY_SUITE) && touch $@

$(SCRAPY_SUITE_DEPS)/.installed: $(PY) tests/scrapy_suite/requirements.txt
	rm -rf $(SCRAPY_SUITE_DEPS)
	$(PY) -m pip install --quiet --no-deps --target $(SCRAPY_SUITE_DEPS) -r tests/scrapy_suite/requirements.txt
	touch $@

scrapy-suite: $(SCRAPY_SUITE)/PKG-INFO $(SCRAPY_SUITE_DEPS)/.installed

# Scrapyd's own environment (deploy/README.md, "Under Scrapyd"; tests/e2e/test_scrapyd.py):
# Scrapyd 1.6, scrapyd-client and setuptools < 81, pinned, with the crawler's requirements,
# since the crawler's egg runs in Scrapyd's Python.
SCRAPYD_PY := $(VENV)/scrapyd/bin/python
$(SCRAPYD_PY): requirements.txt deploy/scrapyd/requirements.txt
	$(PYTHON) -m venv $(VENV)/scrapyd
	$(SCRAPYD_PY) -m pip install --quiet --upgrade pip
	$(SCRAPYD_PY) -m pip install --quiet -r deploy/scrapyd/requirements.txt
	touch $(SCRAPYD_PY)

scrapyd: $(SCRAPYD_PY)

# Every test, none skipped in CI; pytest's "no tests ran" (exit 5) is a failure too.
test: $(PY) system-deps scrapy-suite scrapyd
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest ran no test" >&2; fi; exit $$rc

conformance: $(PY)
	../shared/tools/conformance --python $(PY)

# Benchmarks against their baselines (bench/README.md), in their own venv: the project's pins
# plus what only they use (trafilatura). BENCH_ARGS passes options, e.g. --only crawl,parse.
# --only store starts a PostgreSQL server of its own, from the programs make shared-demo uses.
BENCH_PY := bench/.venv/bin/python
$(BENCH_PY): requirements.txt bench/requirements.txt
	$(PYTHON) -m venv bench/.venv
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -r bench/requirements.txt
	touch $(BENCH_PY)

bench: $(BENCH_PY)
	$(BENCH_PY) -m bench.run_all $(BENCH_ARGS)

# The backfill of a 20,000-article archive (bench/backfill_bench.py): run time, rate, memory. About
# 10 minutes, so not part of `make bench`. BENCH_ARGS passes options, e.g. --windows 20 --no-baseline.
bench-backfill: $(BENCH_PY)
	$(BENCH_PY) -m bench.backfill_bench $(BENCH_ARGS)

clean:
	rm -rf $(DEMO) .pytest_cache
