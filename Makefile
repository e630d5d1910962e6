# Two commands do all set-up:  `make app` (the app on the embedded default) and `make test`.
# Both install what they need first (once; delete .installed to force a reinstall).
PYTHON ?= python3
PORT ?= 8501

.PHONY: app test install browser slurm lint bench

.installed: requirements.txt requirements-nodeps.txt pyproject.toml
	$(PYTHON) -m pip install torch==2.13.0
	$(PYTHON) -m pip install -r requirements.txt
	$(PYTHON) -m pip install --no-deps -r requirements-nodeps.txt
	$(PYTHON) -m pip install --no-deps -e .
	touch .installed

install: .installed

# Debian's Chromium for the end-to-end browser test (skipped where it cannot be installed).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >/dev/null 2>&1 \
	  || echo "chromium not installed: the browser test will be skipped"; }

# Debian's SLURM and munge for the real-cluster test (tests/test_slurm.py starts a one-node
# cluster on localhost); skipped quietly where they cannot be installed.
slurm:
	@{ [ -x /usr/sbin/slurmctld ] || command -v slurmctld >/dev/null 2>&1; } || { \
	  (apt-get update -qq && apt-get install -y -qq slurm-wlm munge) >/dev/null 2>&1 \
	  || echo "slurm not installed: the SLURM test will be skipped"; }

app: .installed
	$(PYTHON) -m app.serve --server.port $(PORT)

lint: .installed
	$(PYTHON) -m ruff check core app pages tests bench

test: .installed browser slurm lint
	$(PYTHON) -m pytest -q

bench: .installed
	$(PYTHON) bench/projection.py
