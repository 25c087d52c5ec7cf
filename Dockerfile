# Steady's image: one image, several roles (`serve`, `work`, `schedule`, or `dev`).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY tools ./tools
COPY prisma ./prisma
COPY prisma.config.ts ./
RUN npm ci --no-audit --no-fund --include=dev
COPY tsconfig.json ./
COPY src ./src
COPY jobs ./jobs
COPY messages ./messages
RUN node tools/prisma.mjs generate
EXPOSE 3000 2525
CMD ["npx", "tsx", "src/cli.ts", "serve"]
