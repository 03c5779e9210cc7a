# distributex: `make help` lists the targets.
SHELL := /bin/bash
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help install build start watch stop test bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

# npm writes node_modules/.package-lock.json on every install: reinstall when the lock file changes.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json ## install npm packages if missing or stale

build: install ## build the assets (Tailwind CSS)
	npm run --silent build

start: build ## start the gateway and every service, with prefixed logs (Ctrl-C stops all)
	npm run --silent start

watch: build ## like start, and restart a process when its source changes
	npm run --silent watch

stop: ## stop what `make start` or `make watch` started (from another terminal)
	@npm run --silent stop

test: install ## run every test: typecheck, unit, integration, Playwright in Chromium
	@scripts/ensure-chromium.sh
	npm run --silent test

bench: build ## run the benchmarks and print their figures
	npm run --silent bench

clean: ## remove build output and local data
	rm -rf packages/ui/dist data .dx test-results
