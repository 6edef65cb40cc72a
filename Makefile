# Two entry points (README): `make demo` and `make test`. Both set up what they need first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO := demo

.PHONY: demo test venv system-deps conformance clean bench

$(PY): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(PY)

venv: $(PY)

# Debian packages the tests use for real: Chromium for rendering (playwright cannot download
# browsers here) and logrotate for the deploy config.
SYSTEM_PACKAGES := chromium logrotate
system-deps:
	@missing=""; for pkg in $(SYSTEM_PACKAGES); do dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else echo "missing Debian packages:$$missing (run: sudo apt-get install$$missing)" >&2; exit 1; fi; \
	fi

# Serve the bundled sample site locally, crawl it, and say where the feeds went.
demo: $(PY)
	$(PY) -m wirecrawler demo --site sample_site --out $(DEMO)

# Every test, none skipped in CI; pytest's "no tests ran" (exit 5) is a failure too.
test: $(PY) system-deps
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest ran no test" >&2; fi; exit $$rc

conformance: $(PY)
	../shared/tools/conformance --python $(PY)

# Benchmarks against their baselines (bench/README.md), in their own venv: the project's pins
# plus what only they use (trafilatura). BENCH_ARGS passes options, e.g. --only crawl,parse.
BENCH_PY := bench/.venv/bin/python
$(BENCH_PY): requirements.txt bench/requirements.txt
	$(PYTHON) -m venv bench/.venv
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -r bench/requirements.txt
	touch $(BENCH_PY)

bench: $(BENCH_PY)
	$(BENCH_PY) -m bench.run_all $(BENCH_ARGS)

clean:
	rm -rf $(DEMO) .pytest_cache
