# Steady's image: one image, every role. The command is the role: `serve` (the default), `work`,
# `schedule` or `migrate` (docker run steady work; compose sets it per service).
#
# Two stages: `build` installs every dependency and compiles TypeScript to dist/ (npm run build);
# the run stage holds production dependencies and dist/, messages/ and prisma/ only (no tsx,
# TypeScript, Prisma CLI, eslint, vitest, vite or playwright), runs as the unprivileged `node`
# user, and has tini as PID 1, so node gets SIGTERM and drains jobs in flight
# (SHUTDOWN_GRACE_MS) before it exits. Node 22 LTS here; the test suite runs on Node 20 (README).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: none is needed, and some would download Prisma engines Steady never uses
# (the client runs on the pg driver adapter). `npm run build` generates the Prisma client.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json prisma.config.ts ./
COPY tools ./tools
COPY prisma ./prisma
COPY src ./src
COPY jobs ./jobs
# The benchmark's fake provider, which src/bench imports (the compiler follows that import).
COPY tests/support/fake-twilio.ts ./tests/support/fake-twilio.ts
RUN npm run build

FROM ${NODE_IMAGE} AS run
# tini as PID 1 forwards SIGTERM/SIGINT to node and reaps children.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    INBOUND_SMTP_HOST=0.0.0.0 \
    INBOUND_SMTP_PORT=2525 \
    METRICS_PORT=9464
COPY package.json package-lock.json ./
# Production dependencies only. --omit=optional also leaves out what npm would otherwise pull in
# as optional peers of @prisma/client (the Prisma CLI and TypeScript).
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY messages ./messages
COPY prisma ./prisma
USER node
# 3000: HTTP (webhooks, sign-up, console); 2525: inbound SMTP; 9464: /metrics and /healthz of
# whichever role runs (every role serves them on METRICS_PORT).
EXPOSE 3000 2525 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--enable-source-maps", "dist/cli.js"]
CMD ["serve"]
