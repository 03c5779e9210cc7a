# distributex: `make help` lists the targets.
SHELL := /bin/bash
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: help install build start start-cluster watch stop test bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# npm writes node_modules/.package-lock.json on every install: reinstall when the lock file changes.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

install: node_modules/.package-lock.json ## install npm packages if missing or stale

build: install ## build the assets (Tailwind CSS, the layout template) and the gateway's bundle
	npm run --silent build

start: build ## start the gateway and every service, with prefixed logs (Ctrl-C stops all)
	npm run --silent start

start-cluster: build ## 2 gateways (4040, 4041) and 2 replicas of each service on NATS and PostgreSQL (needs DATABASE_URL)
	npm run --silent start -- --cluster

watch: build ## like start; restarts a process when its sources change, and open pages reload
	npm run --silent watch

stop: ## stop what `make start` or `make watch` started (from another terminal)
	@npm run --silent stop

test: install ## run every test: typecheck, unit, integration, Playwright in Chromium
	@scripts/ensure-chromium.sh
	npm run --silent test

bench: build ## run the benchmarks and print their figures
	npm run --silent bench

# Docker: `docker compose` (v2) when the docker CLI has it, else docker-compose (v1).
COMPOSE = $(shell docker compose version >/dev/null 2>&1 && echo 'docker compose' || { command -v docker-compose >/dev/null && echo docker-compose; })
# Every service of the cluster profile (scripts/test/docker.test.ts checks the list), so
# the single-host services are not started with them.
CLUSTER_SERVICES := lb gateway-1 gateway-2 todo-1 todo-2 chat-1 chat-2 news-1 news-2 nats postgres
.PHONY: docker-start docker-cluster docker-check

docker-start: docker-check ## build and run every part in Docker on one host (ports 4040, 4001-4003)
	$(COMPOSE) up --build

docker-cluster: docker-check ## Docker: load balancer on 8080, 2 gateways, 2 replicas each, NATS, PostgreSQL
	$(COMPOSE) --profile cluster up --build $(CLUSTER_SERVICES)

docker-check:
	@if [ -z "$(COMPOSE)" ]; then echo "make: neither 'docker compose' nor 'docker-compose' is installed: install Docker with its compose plugin, or on Debian: apt-get install docker.io docker-compose" >&2; exit 1; fi
	@if [ ! -f .env ]; then echo "make: .env is missing: cp .env.example .env, then replace its placeholders (openssl rand -hex 32)" >&2; exit 1; fi
	@if grep -q '^[A-Z_]*=replace-with' .env; then echo "make: .env still has a placeholder: $$(grep -o '^[A-Z_]*=replace-with' .env | cut -d= -f1 | paste -sd, -); see the comments in .env" >&2; exit 1; fi

clean: ## remove build output and local data
	rm -rf packages/ui/dist gateway/dist data .dx test-results
