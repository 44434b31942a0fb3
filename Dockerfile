# syntax=docker/dockerfile:1
# Build stage: same steps as CI (npm ci, nest build).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

# Runtime: Node 20, tmux, UTF-8 locale, tini as init (reaps the tmux server and panes), non-root.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends tmux=3.3a-3 tini \
 && rm -rf /var/lib/apt/lists/*
ENV LC_ALL=C.UTF-8 \
    NODE_ENV=production \
    MAS_API_HOST=0.0.0.0 \
    MAS_API_PORT=8765 \
    MAS_WORKSPACE_ROOT=/workspace
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN useradd --create-home --uid 10001 mas && mkdir -p /workspace && chown mas /workspace
USER mas
VOLUME ["/workspace"]
EXPOSE 8765
# Binding 0.0.0.0 requires MAS_API_TOKEN: the service refuses to start without it.
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "require('http').get('http://127.0.0.1:8765/health',{headers:{host:'localhost'}},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
