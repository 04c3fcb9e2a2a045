.PHONY: demo test lint
demo:  ## run the portal with demo data on embedded defaults
	scripts/demo.sh
test:  ## run the whole test suite (PostgreSQL, Redis, Chromium)
	scripts/test.sh
lint:
	.venv/bin/ruff format --check . && .venv/bin/ruff check .
