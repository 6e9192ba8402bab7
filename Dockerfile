# syntax=docker/dockerfile:1.7
# logproc container image: one standalone binary for every role, chosen with --role or ROLE.
#
#   docker build -t logproc:local .
#   docker run --rm -p 127.0.0.1:8080-8082:8080-8082 logproc:local            # --role all, embedded mode
#   docker run --rm -e KAFKA_BOOTSTRAP_SERVERS=kafka:9092 logproc:local --role producer
#
# HOST=0.0.0.0 is set below because a published port reaches the container through its own interface,
# never its loopback (logproc's default without API keys). Publish on 127.0.0.1 as above, or set
# INGEST_API_KEYS and QUERY_API_KEYS; without keys the roles log a warning at start (docs/security.md).
#
# The build stage compiles with the Bun that package-lock.json pins (the npm package `bun`, a
# devDependency), so the image and `npm run build` on a laptop produce the same binary. The binary is
# built for the build platform; the runtime stage uses the same Debian release, so glibc matches.

ARG NODE_IMAGE=node:20-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first: this layer is reused until package.json or the lock file changes.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm run build && ./dist/logproc --version

FROM ${RUNTIME_IMAGE} AS runtime
# curl serves the container health checks; ca-certificates the TLS connections to Kafka, PostgreSQL, Redis.
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates curl \
  && rm -rf /var/lib/apt/lists/* \
  && groupadd --system --gid 10001 logproc \
  && useradd --system --uid 10001 --gid logproc --home-dir /var/lib/logproc --shell /usr/sbin/nologin logproc \
  && install -d -o logproc -g logproc -m 0750 /var/lib/logproc
COPY --from=build /src/dist/logproc /usr/local/bin/logproc
# Healthy when every role port that answers says so and at least one answers: works for any --role.
COPY --chmod=0755 <<'SCRIPT' /usr/local/bin/logproc-healthcheck
#!/bin/sh
ok=1
for url in \
  "http://127.0.0.1:${PRODUCER_PORT:-8081}/producer/api/logs/health" \
  "http://127.0.0.1:${CONSUMER_PORT:-8082}/actuator/health" \
  "http://127.0.0.1:${GATEWAY_PORT:-8080}/gateway/api/query/health"; do
  curl -fsS -o /dev/null --max-time 3 "$url"
  rc=$?
  if [ "$rc" -eq 0 ]; then ok=0; elif [ "$rc" -ne 7 ]; then exit 1; fi
done
exit "$ok"
SCRIPT

# HOST explicit: see the header. MIMALLOC_PURGE_DELAY: the runtime's allocator keeps freed memory for a second
# before giving it back to the system (10 ms by default), so the request and COPY buffers that every batch
# allocates anew are not faulted in again each time: 16 % less producer CPU per request (docs/operating.md).
ENV HOST=0.0.0.0 \
    DATA_DIR=/var/lib/logproc \
    LOG_LEVEL=info \
    MIMALLOC_PURGE_DELAY=1000
WORKDIR /var/lib/logproc
USER 10001:10001
EXPOSE 8080 8081 8082
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/logproc-healthcheck"]
ENTRYPOINT ["/usr/local/bin/logproc"]
