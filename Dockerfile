# Images for ingress, worker, dashboard (and the one-shot migrate, which uses the worker image):
#   docker build --target ingress -t callsync-ingress .
# docker-compose.yml builds each target.

# --- build: compile everything, then keep production dependencies only
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY apps apps
COPY packages packages
COPY migrations migrations
# examples/ is a workspace, so it is copied to build; it stays in the image only while the ingress
# registers one of its functions (apps/ingress/src/functions.ts; docs/during-the-call.md), and never
# with its sources, tests or sample data: scripts/image-examples.sh decides from the built code.
COPY examples examples
COPY scripts/image-examples.sh /tmp/image-examples.sh
# The test harness (packages/testkit: chaos, bench) stays out of the image.
RUN rm -rf packages/testkit \
 && npm install --no-audit --no-fund \
 && npx tsc -b apps/ingress apps/worker apps/dashboard apps/cli \
 && npm prune --omit=dev --no-audit --no-fund \
 && /tmp/image-examples.sh \
 && rm -rf apps/*/src packages/*/src migrations/*.ts apps/*/tsconfig.json packages/*/tsconfig.json /tmp/image-examples.sh

# --- runtime: the built app, no compilers, not root
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
COPY --chown=node:node sql sql
USER node

FROM runtime AS ingress
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Node flags: INGRESS_NODE_FLAGS in packages/runtime (a test keeps the two the same).
CMD ["node", "--max-semi-space-size=8", "apps/ingress/dist/main.js"]

FROM runtime AS worker
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.WORKER_METRICS_PORT||9464)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Workers finish in-flight jobs within WORKER_SHUTDOWN_TIMEOUT_MS of SIGTERM; give them that long.
STOPSIGNAL SIGTERM
CMD ["node", "apps/worker/dist/main.js"]

FROM runtime AS dashboard
EXPOSE 3001
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.DASHBOARD_PORT||3001)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "apps/dashboard/dist/main.js"]
