# syntax=docker/dockerfile:1
# One image recipe for the five server services: `docker build --build-arg SERVICE=applier .`

FROM node:22-slim AS build
WORKDIR /app
COPY . .
# Scripts are skipped: the only native addon (better-sqlite3) belongs to client-agent, which the
# server never loads, and compiling it would need a C++ toolchain in this stage.
RUN npm ci --ignore-scripts --no-audit --no-fund
RUN npx tsc -b services/client-registry services/inbox-store services/sync-gateway services/applier services/router
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:22-slim
ARG SERVICE
RUN test -n "${SERVICE}" || (echo "build with --build-arg SERVICE=<client-registry|inbox-store|sync-gateway|applier|router>" >&2 && exit 1)
ENV NODE_ENV=production \
    SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build /app /app
RUN test -f "services/${SERVICE}/dist/main.js"
USER node
# exec: node replaces the shell and receives `docker stop`'s SIGTERM itself.
CMD ["sh", "-c", "exec node services/${SERVICE}/dist/main.js"]
