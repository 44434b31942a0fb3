# MAS API image (docs/deploy.md). No "# syntax=" line: it would make BuildKit fetch a frontend image,
# which fails offline and behind registry mirrors, and nothing here needs it.
#
# NODE_VERSION: major of the official node:<major>-bookworm-slim base. Node 20 reached end of life on
# 2026-04-30; the service and its whole suite run unchanged on Node 24 (LTS), so the image uses it.
# EXTRA_CA_CERTS: PEM text of CA certificates npm must also trust while building (a TLS-intercepting
# proxy), e.g. --build-arg EXTRA_CA_CERTS="$(cat corp-ca.pem)". Used by the build stage only.
ARG NODE_VERSION=24

# Build stage: the same steps as CI (npm ci, nest build), then only the production dependencies are kept.
FROM node:${NODE_VERSION}-bookworm-slim AS build
ARG EXTRA_CA_CERTS=""
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN if [ -n "$EXTRA_CA_CERTS" ]; then printf '%s\n' "$EXTRA_CA_CERTS" > /tmp/extra-ca.pem; \
      export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; fi \
 && npm ci --no-audit --no-fund \
 && npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf /tmp/extra-ca.pem /root/.npm

# Runtime: tmux 3.3a, a UTF-8 locale, tini as PID 1 (it reaps the tmux server and the panes: do not add
# docker's --init or compose's init: true, which would nest a second tini), an unprivileged user.
# tmux is pinned to 3.3a with any Debian revision, so security updates still install. The user's shell is
# bash: tmux runs a one-word pane command as "$SHELL -c cmd", and dash (Debian's sh) does not exec it,
# so the agent would stay behind a shell that contract §5.4 reads as "no agent process".
FROM node:${NODE_VERSION}-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends tmux=3.3a-* tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --shell /bin/bash --uid 10001 mas \
 && mkdir -p /workspace \
 && chown mas /workspace
# SHELL: tmux's default-shell even for a --user without a passwd entry (see the useradd above).
ENV LC_ALL=C.UTF-8 \
    SHELL=/bin/bash \
    NODE_ENV=production \
    MAS_API_HOST=0.0.0.0 \
    MAS_API_PORT=8765 \
    MAS_WORKSPACE_ROOT=/workspace
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER mas
VOLUME ["/workspace"]
EXPOSE 8765
# Binding 0.0.0.0 requires MAS_API_TOKEN: the service refuses to start without it (contract §2.1).
# The probe follows MAS_API_PORT (and MAS_API_HOST when that is one address rather than a wildcard).
HEALTHCHECK --interval=30s --timeout=3s \
  CMD ["node", "-e", "const e=process.env,h=e.MAS_API_HOST&&!['0.0.0.0','::'].includes(e.MAS_API_HOST)?e.MAS_API_HOST:'127.0.0.1';require('http').get({host:h,port:e.MAS_API_PORT||8765,path:'/health',headers:{host:'localhost'},timeout:2500},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
