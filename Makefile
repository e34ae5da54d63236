# Shortcuts for the commands described in docs/running.md.
# Pass pytest arguments with PYTEST_ARGS, for example: make test PYTEST_ARGS="-k ledger -x"

.PHONY: run test lint bench bench-icp bench-links bench-simulation bench-bulk bench-import bench-dashboard

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

# Time rescoring 1,000,000 synthetic accounts after an ICP activation and write
# bench/results-icp-rescore.md. Pass options with BENCH_ARGS="--accounts 200000".
bench-icp:
	bin/dev bench-icp $(BENCH_ARGS)

# Time the tracking-link redirect and the click drain, and write
# bench/results-links.md. Pass options with BENCH_ARGS="--clicks 20000".
bench-links:
	bin/dev bench-links $(BENCH_ARGS)

# Time simulating a draft commission plan on 100,000 won partner deals and write
# bench/results-simulation.md. Pass options with BENCH_ARGS="--deals 20000".
bench-simulation:
	bin/dev bench-simulation $(BENCH_ARGS)

# Time the bulk upsert endpoints with 10,000 rows per request and write
# bench/results-bulk.md. Pass options with BENCH_ARGS="--rows 2000".
bench-bulk:
	bin/dev bench-bulk $(BENCH_ARGS)
# Time importing a 1,000,000-line synthetic deals CSV (check and write passes,
# dry run, re-import) with peak memory, and write bench/results-import.md.
# Pass options with BENCH_ARGS="--deals 200000".
bench-import:
	bin/dev bench-import $(BENCH_ARGS)

# Time the dashboard, the partner list and the partner portal on 200,000 accounts
# and 300,000 deals, and write bench/results-dashboard.md.
# Pass options with BENCH_ARGS="--accounts 20000 --deals 30000".
bench-dashboard:
	bin/dev bench-dashboard $(BENCH_ARGS)
