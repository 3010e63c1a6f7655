# CDS Hooks service image. Build stage: full install, CQL-to-ELM translation and TypeScript build.
# Runtime stage: production dependencies and build output only, run as the unprivileged `node` user.
# docker-compose.yml also runs the seeding command from the build stage (it has tsx and the fixtures).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Read at runtime: compiled code, translated ELM, and the policy packs (value sets, service definitions, texts).
COPY --from=build /app/dist ./dist
COPY --from=build /app/build ./build
COPY --from=build /app/policies ./policies
# The call record spool (and PGlite's folder when no DATABASE_URL is given); mount a volume here.
RUN mkdir -p /app/data && chown node:node /app/data
ENV DATA_DIR=/app/data
USER node
ENV PORT=3000
EXPOSE 3000
# Slim images have no curl; Node 20 has fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:3000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/serve.js"]
