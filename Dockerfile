# One image for the kubelvs operator and agent (the entrypoint is the kubelvs CLI; the Helm chart
# passes `operator` or `agent`). Build: docker build -t kubelvs:dev .
# Node.js: the 24 LTS line, pinned to a patch release; bump both stages together. The apt versions
# are bookworm's; e2e/kind/dockerfile.test.ts runs hadolint over this file.
ARG NODE_VERSION=24.11.1

FROM node:${NODE_VERSION}-bookworm-slim AS build
# Toolchain for the N-API addon only; it never reaches the runtime stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3=3.11.2-1+b1 make=4.3-4.1 g++=4:12.2.0-3 \
 && rm -rf /var/lib/apt/lists/*
# The node image keeps Node's headers under /usr/local/include/node (Debian's under /usr);
# scripts/build-native.mjs builds against KUBELVS_NODEDIR and never downloads headers.
ENV KUBELVS_NODEDIR=/usr/local
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
# Build, then keep only what runs: production dependencies, no compiled tests.
RUN npm run build \
 && npm prune --omit=dev \
 && find dist -name '*.test.js' -delete \
 && find dist -name '*.test.js.map' -delete

FROM node:${NODE_VERSION}-bookworm-slim
WORKDIR /opt/kubelvs
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/crds/*.yaml ./crds/
COPY --from=build /src/native/build/Release/kubelvs_native.node ./native/build/Release/kubelvs_native.node
# `kubectl exec … -- kubelvs status` finds the CLI on PATH.
ENV NODE_ENV=production \
    PATH=/opt/kubelvs/bin:$PATH
# The operator runs as this user; the agent's pod spec runs it as root with only NET_ADMIN/NET_RAW.
USER 65532:65532
ENTRYPOINT ["node", "/opt/kubelvs/bin/kubelvs"]
CMD ["--help"]
