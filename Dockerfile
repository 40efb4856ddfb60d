# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev

# Runtime stage: production dependencies, the compiled code and the migrations only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    COPILOT_HOME=/data \
    PORT=8080
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY bin ./bin
COPY sql ./sql
RUN ln -s /app/bin/copilot.js /usr/local/bin/copilot \
 && groupadd --system copilot && useradd --system --gid copilot --home-dir /data copilot \
 && mkdir -p /data && chown copilot:copilot /data
USER copilot
EXPOSE 8080
# The embedded database lives in /data (mount a volume there); with DATABASE_URL it is unused.
VOLUME ["/data"]
# The daemon only (not the admin commands run over ssh): a small young generation and a bounded
# old one keep its memory low and flat (bench/daemon).
CMD ["node", "--max-semi-space-size=1", "--max-old-space-size=192", "/app/bin/copilot.js", "serve"]
