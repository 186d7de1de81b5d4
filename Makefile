# invoice-engine — one-command entry points. `make help` lists them.
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help test lint fmt bench bench-build golden example all

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

test: ## every test of the workspace: unit, integration, doc and property tests, examples, benches compile
	$(CARGO) test --all-targets
	$(CARGO) test --doc
	$(CARGO) run --quiet --example month_end -- --out target/month-end-test >/dev/null

lint: ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --all-features -- -D warnings

fmt: ## format the code
	$(CARGO) fmt --all

bench: ## run the criterion benches (release build)
	$(CARGO) bench --bench book_cycle

example: ## run the main job
	$(CARGO) run --release --example month_end

all: lint test ## lint, then test
