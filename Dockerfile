# One image for both apps (the command picks which); used by docker-compose.yml. Stage `demo`
# adds Kamailio with the kazoo module and sipp for `docker compose --profile demo up`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# `npm run demo` beside the apps: Debian's Kamailio 5.6 + kazoo module (the versions the tests
# use, test/kamailio/README.md), sipp, and the sources with their dev dependencies (ts-node).
FROM build AS demo
RUN apt-get update \
  && apt-get install -y --no-install-recommends kamailio kamailio-kazoo-modules sip-tester \
  && rm -rf /var/lib/apt/lists/*
# Node itself, not npx: a stop signal must reach the demo (run with `init: true`).
CMD ["node", "-r", "ts-node/register/transpile-only", "-r", "tsconfig-paths/register", "scripts/demo/demo.ts", "--no-start"]

FROM build AS prune
RUN npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prune /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
CMD ["node", "dist/apps/api/src/main.js"]
