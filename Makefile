# Shortcuts for the commands described in docs/running.md.
# Pass pytest arguments with PYTEST_ARGS, for example: make test PYTEST_ARGS="-k ledger -x"

.PHONY: run test lint bench

run:
	bin/dev up

test:
	bin/dev test $(PYTEST_ARGS)

# `bin/dev setup` installs ruff into .venv when it is missing.
lint:
	bin/dev setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

# Time the bulk path (import, ICP learning, rescoring, pipeline) on synthetic data
# and write bench/results.md.
bench:
	bin/dev bench $(BENCH_ARGS)
