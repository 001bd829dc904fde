# The two commands of the README:
#   make lab    set everything up (virtual environment included) and start the lab
#   make test   set everything up and run the whole test suite, browser tests included
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test install chromium

lab: install
	$(BIN)/genlab

test: install chromium
	$(BIN)/python -m pytest

install: $(STAMP)

# torch is installed first and pinned: an open `torch` requirement would pull several GB of CUDA
# wheels. A GPU user installs the CUDA build of torch 2.13.0 into .venv first (see README).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,ray]'
	touch $(STAMP)

# Browser tests drive Debian's Chromium (Playwright cannot download its own browser everywhere).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
