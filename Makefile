# Two entry points (README): `make demo` and `make test`. Both set up what they need first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEMO := demo

.PHONY: demo test venv system-deps conformance clean

$(PY): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(PY)

venv: $(PY)

# Debian's Chromium for the rendering tests (playwright cannot download browsers here).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium'" >&2; exit 1; fi; }

# Serve the bundled sample site locally, crawl it, and say where the feeds went.
demo: $(PY)
	$(PY) -m wirecrawler demo --site sample_site --out $(DEMO)

# Every test, none skipped in CI; pytest's "no tests ran" (exit 5) is a failure too.
test: $(PY) system-deps
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest ran no test" >&2; fi; exit $$rc

conformance: $(PY)
	../shared/tools/conformance --python $(PY)

clean:
	rm -rf $(DEMO) .pytest_cache
