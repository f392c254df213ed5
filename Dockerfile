# syntax=docker/dockerfile:1
# One image recipe for the five server services: `docker build --build-arg SERVICE=applier .`
# Three stages: build everything; install only the services' runtime dependencies; assemble.

FROM node:22-slim AS build
WORKDIR /app
COPY . .
# Scripts are skipped: the only native addon (better-sqlite3) belongs to client-agent, which the
# server never loads, and compiling it would need a C++ toolchain in this stage.
RUN npm ci --ignore-scripts --no-audit --no-fund
RUN npx tsc -b services/client-registry services/inbox-store services/sync-gateway services/applier services/router

# Only the manifests: this layer is rebuilt when dependencies change, not when code does.
FROM node:22-slim AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/runtime-manifest.js scripts/
COPY libs/dx-format/package.json libs/dx-format/
COPY libs/schema/package.json libs/schema/
COPY libs/contracts/package.json libs/contracts/
COPY libs/server-kit/package.json libs/server-kit/
COPY libs/server-db/package.json libs/server-db/
COPY libs/storage/package.json libs/storage/
COPY services/client-registry/package.json services/client-registry/
COPY services/inbox-store/package.json services/inbox-store/
COPY services/sync-gateway/package.json services/sync-gateway/
COPY services/applier/package.json services/applier/
COPY services/router/package.json services/router/
RUN node scripts/runtime-manifest.js \
 && npm install --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

FROM node:22-slim
ARG SERVICE
RUN test -n "${SERVICE}" || (echo "build with --build-arg SERVICE=<client-registry|inbox-store|sync-gateway|applier|router>" >&2 && exit 1)
ENV NODE_ENV=production \
    SERVICE=${SERVICE} \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=runtime-deps /app/package.json ./
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY --from=build /app/libs/dx-format ./libs/dx-format
COPY --from=build /app/libs/schema ./libs/schema
COPY --from=build /app/libs/contracts ./libs/contracts
COPY --from=build /app/libs/server-kit ./libs/server-kit
COPY --from=build /app/libs/server-db ./libs/server-db
COPY --from=build /app/libs/storage ./libs/storage
COPY --from=build /app/services ./services
RUN test -f "services/${SERVICE}/dist/main.js"
USER node
# exec: node replaces the shell and receives `docker stop`'s SIGTERM itself.
CMD ["sh", "-c", "exec node services/${SERVICE}/dist/main.js"]
