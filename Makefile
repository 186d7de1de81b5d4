# invoice-engine — one-command entry points. `make help` lists them.
.DEFAULT_GOAL := help
CARGO ?= cargo

.PHONY: help test lint fmt bench bench-build golden example all

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

test: ## every test: unit, integration (incl. the month_end example), doc and property tests; benches run once
	$(CARGO) build --example month_end
	$(CARGO) test --all-targets
	$(CARGO) test --doc

lint: ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets --all-features -- -D warnings

fmt: ## format the code
	$(CARGO) fmt --all

bench: ## run every criterion bench at full size (release build)
	$(CARGO) bench

golden: ## rewrite the export golden files from the current output (review the diff!)
	UPDATE_GOLDEN=1 $(CARGO) test -p invoice-export

example: ## run the main job
	$(CARGO) run --release --example month_end

all: lint test ## lint, then test
