# One image for the kubelvs operator and agent (the entrypoint is the kubelvs CLI; the Helm chart
# passes `operator` or `agent`). Build: docker build -t kubelvs:dev .
# Node.js: the 24 LTS line, pinned to a patch release; bump both stages together.
ARG NODE_VERSION=24.11.1

FROM node:${NODE_VERSION}-bookworm-slim AS build
# Toolchain for the N-API addon only; it never reaches the runtime stage.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build \
 && npm prune --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim
WORKDIR /opt/kubelvs
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY --from=build /src/bin ./bin
COPY --from=build /src/crds/*.yaml ./crds/
COPY --from=build /src/native/build/Release/kubelvs_native.node ./native/build/Release/kubelvs_native.node
ENV NODE_ENV=production
# The operator runs as this user; the agent's pod spec runs it as root with only NET_ADMIN/NET_RAW.
USER 65532:65532
ENTRYPOINT ["node", "/opt/kubelvs/bin/kubelvs"]
CMD ["--help"]
