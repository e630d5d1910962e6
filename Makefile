# Two commands do all set-up:  `make app` (the app on the embedded default) and `make test`.
# Both install what they need first (once; delete .installed to force a reinstall).
PYTHON ?= python3
PORT ?= 8501

.PHONY: app test install browser lint bench

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

app: .installed
	$(PYTHON) -m streamlit run app/main.py --server.port $(PORT)

lint: .installed
	$(PYTHON) -m ruff check core app pages tests bench

test: .installed browser lint
	$(PYTHON) -m pytest -q

bench: .installed
	$(PYTHON) bench/projection.py
