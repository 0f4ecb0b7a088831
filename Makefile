# Claude Watch: two commands set everything up.
#   make run    create .venv, install, start the app (add ARGS=--demo for the simulated account)
#   make test   install what the tests need (system packages via apt when root) and run the suite
#   make package  build the Linux bundle, tarball, .deb, wheel and sdist into dist/
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
RUN_STAMP := $(VENV)/.stamp-run
DEV_STAMP := $(VENV)/.stamp-dev
PKG_STAMP := $(VENV)/.stamp-package
PYTEST_ARGS ?=
ARGS ?=

.PHONY: run test lint unit integration otel-js screenshots bench bench-scan format lock clean system-deps system-test-deps \
	package package-smoke bench-package bench-soak

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q -c constraints.txt -e .
	@touch $@

$(DEV_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	@touch $@ $(RUN_STAMP)

$(PKG_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install -q -c constraints.txt -e '.[dev,package]'
	@touch $@ $(DEV_STAMP) $(RUN_STAMP)

system-deps:
	@packaging/system-deps.sh runtime

system-test-deps:
	@packaging/system-deps.sh test

run: system-deps $(RUN_STAMP)
	$(VENV)/bin/claude-watch $(ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check trayapp tests bench packaging
	$(VENV)/bin/ruff format --check trayapp tests bench packaging
	$(VENV)/bin/mypy
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml

# Unit and integration tests in one run, inside a private desktop session (D-Bus, Xvfb,
# gnome-keyring, trayer, dunst). Unit tests render offscreen; integration tests start real
# app processes on the virtual display.
test: system-test-deps $(PKG_STAMP) lint otel-js
	QT_QPA_PLATFORM=offscreen tests/integration/with-services.sh $(PY) -m pytest -q -rs $(PYTEST_ARGS)
	$(MAKE) --no-print-directory package-smoke

# The OpenTelemetry JavaScript SDK's OTLP exporters (pinned in tests/otel-js) that the telemetry
# receiver's integration tests send through.
otel-js: system-test-deps
	cd tests/otel-js && npm ci --no-audit --no-fund --loglevel=error

unit: $(DEV_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -rs tests/unit $(PYTEST_ARGS)

integration: system-test-deps $(DEV_STAMP) otel-js
	tests/integration/with-services.sh $(PY) -m pytest -q -rs tests/integration $(PYTEST_ARGS)

screenshots: system-test-deps $(DEV_STAMP)
	tests/integration/with-services.sh $(PY) tests/visual/make_screenshots.py
	tests/integration/with-services.sh $(PY) tests/visual/settings_screenshots.py
	$(PY) tests/visual/make_web_screenshots.py

# Benchmarks print figures and ratios against a peer run in the same process; they never assert.
# The tray figures need a real tray, so they run inside the private desktop session.
bench: system-test-deps $(DEV_STAMP)
	$(PY) bench/bench_status.py
	$(PY) bench/bench_import.py
	$(PY) bench/bench_statusline.py
	$(PY) bench/bench_channels.py
	$(PY) bench/bench_hooks.py
	$(PY) bench/bench_telemetry.py
	$(PY) bench/bench_api.py
	$(PY) bench/bench_metrics.py
	$(PY) bench/bench_web_dashboard.py
	$(PY) bench/bench_extension.py
	$(PY) bench/bench_statusbar.py
	$(PY) bench/bench_session_sources.py
	$(PY) bench/bench_sessions_panel.py
	$(PY) bench/bench_popup_paint.py
	$(PY) bench/bench_stream_json.py
	$(PY) bench/bench_agents_views.py
	$(PY) bench/bench_agents.py
	$(PY) bench/bench_containers.py
	$(PY) bench/bench_achievements.py
	$(PY) bench/bench_schedule.py
	$(PY) bench/bench_accounts.py
	tests/integration/with-services.sh $(PY) bench/bench_tray.py
	tests/integration/with-services.sh $(PY) bench/bench_sessions.py
	$(MAKE) --no-print-directory bench-package

# Package figures (sizes; frozen app against the venv app: start to tray icon, idle RSS, statusline).
# Uses dist/ as `make package` left it (builds it when there is no bundle).
bench-package: system-test-deps $(PKG_STAMP)
	tests/integration/with-services.sh $(PY) bench/bench_package.py

# Memory over an hour of accelerated demo time (issue 20); MINUTES=10 for a shorter look.
MINUTES ?= 60
bench-soak: system-test-deps $(DEV_STAMP)
	tests/integration/with-services.sh $(PY) bench/bench_soak.py --minutes $(MINUTES)

# Transcript scanning against ccusage (npm, pinned in bench/package.json) on a generated corpus.
bench-scan: $(DEV_STAMP)
	# npm ci refuses the lock when the registry lacks ccusage's optional packages for other
	# platforms (they are listed in package.json but 404 here); install the pinned version instead.
	cd bench && (npm ci --no-audit --no-fund 2>/dev/null || npm install --no-audit --no-fund --no-save)
	$(PY) bench/bench_scan.py --size-mib $(or $(SIZE_MIB),512)
	$(PY) bench/bench_warm.py --corpus bench/corpus/$(or $(SIZE_MIB),512)

format: $(DEV_STAMP)
	$(VENV)/bin/ruff format trayapp tests bench packaging
	$(VENV)/bin/ruff check --fix trayapp tests bench packaging

# Linux packages into dist/ (see packaging/build.sh): the one-folder bundle, the portable tarball,
# the .deb, the wheel and the sdist. DEB_COMPRESS=zstd for a fast .deb (default xz, the smallest).
package: $(PKG_STAMP)
	packaging/build.sh $(PY)

# Builds the packages once, installs the .deb (root), runs the installed app in the private desktop
# session, removes it, then the wheel in a fresh venv (packaging/smoke/smoke.sh; about 2-3 minutes).
# `make test` runs it last; without root or dpkg it is skipped with a note (an error under CI=true).
package-smoke: system-test-deps $(PKG_STAMP)
	packaging/smoke/smoke.sh $(PY)

# Re-pin every dependency to what is installed in .venv now.
lock: $(DEV_STAMP)
	$(PY) -m pip freeze --exclude-editable | grep -v '^claude-watch' > constraints.txt

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache screenshots
