# syntax=docker/dockerfile:1
# The reference service. Build: `docker compose build app` (or `docker build -t nest-redis-kit .`).

# --- build: install everything, compile TypeScript to dist/ ---
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json nest-cli.json ./
COPY src ./src
RUN npx nest build

# --- runtime: compiled code + node_modules, non-root ---
# node_modules is kept whole: the reference service's framework packages (Nest, pg, pino...) are
# devDependencies of the library package.
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=3000 DATA_DIR=/app/.data
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# No REDIS_URL → the service would look for redis-server, which this image does not have: set REDIS_URL.
CMD ["node", "dist/app/main.js"]
