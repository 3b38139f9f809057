# A thin layer over npm scripts and scripts/. Every target works on a fresh Debian machine:
# it installs npm packages, builds, and starts the local Postgres and Redis when it needs them.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
LOCAL_ENV := . scripts/local-env.sh &&
PACKAGE_JSONS := package.json $(wildcard apps/*/package.json packages/*/package.json migrations/package.json)

.PHONY: up down test test-cluster lint format migrate demo reconcile stats replay tenants destinations backfill backfill-fields audit tokens functions forget chaos bench deploy-check build install services status typecheck clean

## up: start Postgres, Redis, migrations, ingress and worker in the foreground (Ctrl-C stops)
up: build
	scripts/up.sh

## test: run the whole test suite against real local Postgres and Redis
test: build services
	scripts/ensure-packages.sh chromium docker-compose prometheus
	$(LOCAL_ENV) npx tsc -p tsconfig.test.json
	$(LOCAL_ENV) npx jest

## lint: prettier's formatting check and eslint over the whole tree (CI runs it before the tests)
lint: install
	npx prettier --check --log-level warn .
	npx eslint --max-warnings 0 .

## format: rewrite the tree in prettier's format
format: install
	npx prettier --write --log-level warn .

## test-cluster: the pipeline and reconciliation end to end on a local 3-master Redis Cluster
test-cluster: build services
	scripts/redis-cluster.sh start
	$(LOCAL_ENV) REDIS_CLUSTER_NODES=$$(scripts/redis-cluster.sh nodes) npx jest -c jest.cluster.config.js

## migrate: bring the database (DATABASE_URL, default the local one) to the latest schema
migrate: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js migrate

## demo: send signed sample calls to the running system (`make up`) and print the result
demo: build
	$(LOCAL_ENV) node apps/cli/dist/main.js demo

## reconcile: one reconciliation pass now, e.g. make reconcile ARGS="--dry-run --older-than 10m"
reconcile: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js reconcile $(ARGS)

## stats: processing rate per event type, stuck sessions, queue counts; ARGS="--window 1h --json"
stats: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js stats $(ARGS)

## replay: re-run failed events of the last 24 h from Postgres; ARGS="--event call_ended --since 2h --wait"
replay: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js replay $(ARGS)

## tenants: companies, agents and numbers; ARGS="list", "company add NAME --tz Europe/Berlin", "apply examples/tenants.yaml"
tenants: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js tenants $(ARGS)

## destinations: forwarding to the team's endpoints; ARGS="add https://crm.example/hook --events call_analyzed", "list", "resume 1"
destinations: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js destinations $(ARGS)

## tokens: context API tokens per company; ARGS="add --company 'Praxis Dr. Weber'", "list", "revoke 3"
tokens: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js tokens $(ARGS)

## functions: Retell custom tools from the code; ARGS="export --base-url URL", "check --llm ID --base-url URL", "push --llm ID --base-url URL"
functions: build
	$(LOCAL_ENV) node apps/cli/dist/main.js functions $(ARGS)

## forget: erase one caller or call here and at Retell (GDPR Art. 17); ARGS="--caller +4916012345678", "--call-id ID", "--local-only"
forget: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js forget $(ARGS)

## backfill: import calls and chats callsync never heard of from Retell; ARGS="--since 7d"
backfill: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js backfill $(ARGS)

## audit: is everything Retell knows here, final, analyzed and forwarded? ARGS="--since 24h --company NAME --json"
audit: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js audit $(ARGS)

## backfill-fields: copy analysis and call fields into sessions stored before they were columns; ARGS="--all"
backfill-fields: build services
	$(LOCAL_ENV) node apps/cli/dist/main.js backfill-fields $(ARGS)

## bench: ingress, worker drain, latency and memory against a bare-Express baseline, same run
bench: build
	node packages/testkit/dist/main.js bench $(ARGS)

## chaos: prove nothing acknowledged is lost while workers die, Redis restarts and Postgres stops
##        (own Postgres/Redis, 127.0.0.1 only); e.g. make chaos ARGS="--events 5000"
chaos: build
	node packages/testkit/dist/main.js chaos $(ARGS)

## deploy-check: render deploy/kubernetes with kustomize and check it offline (schemas, env, grace
##               periods, probe paths, labels); no cluster, database or Redis needed. `make test` runs it too
deploy-check: build
	npx jest --globalSetup '' test/deploy.kubernetes.test.ts

## down: stop the local Postgres and Redis (data stays in .local/)
down:
	scripts/redis-cluster.sh stop
	scripts/services.sh stop

services:
	scripts/services.sh start

status:
	scripts/services.sh status

install: node_modules/.install-stamp
node_modules/.install-stamp: $(PACKAGE_JSONS) $(wildcard package-lock.json)
	npm install --no-audit --no-fund
	touch $@

build: install
	npx tsc -b

typecheck: build
	npx tsc -p tsconfig.test.json

## clean: remove build output (keeps .local/ data)
clean:
	rm -rf apps/*/dist packages/*/dist migrations/dist
