# tally's container image: the static binary, CA certificates (uploads use
# HTTPS) and nothing else, run as a non-root user with the database in the
# /data volume. Build and run: deploy/README.md.
#
#   docker build --build-arg VERSION=v1.2.0 \
#     --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg BUILD_TIME="$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ)" \
#     -t tally:v1.2.0 .

# The toolchain go.mod asks for (a test checks they agree).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The same flags as scripts/release.sh. .git is not in the build context
# (.dockerignore), so the revision and time come from the build arguments.
ARG VERSION=dev
ARG REVISION=
ARG BUILD_TIME=
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION} -X main.buildTime=${BUILD_TIME}" \
      -o /out/root/usr/local/bin/tally ./cmd/tally \
 && /out/root/usr/local/bin/tally version \
 && mkdir -p /out/root/etc/ssl/certs /out/root/tmp /out/data \
 && cp /etc/ssl/certs/ca-certificates.crt /out/root/etc/ssl/certs/ \
 && echo 'tally:x:65532:65532:tally:/data:/sbin/nologin' >/out/root/etc/passwd \
 && echo 'tally:x:65532:' >/out/root/etc/group \
 && chmod 1777 /out/root/tmp && chmod 0700 /out/data

# An empty base: no shell, no package manager, no libc.
FROM scratch
# The binary, the CA certificates, passwd and group naming user 65532, and
# /tmp (SQLite writes its temporary files there: large sorts, VACUUM INTO).
COPY --from=build /out/root/ /
# The volume's mount point, owned by that user: a new volume starts so.
COPY --from=build --chown=65532:65532 /out/data /data
# Numeric, so Kubernetes' runAsNonRoot can check it.
USER 65532:65532
# tally.db, its -wal and -shm files, tally.key (when $TALLY_SECRET and
# $TALLY_SECRET_FILE are unset) and outbox/ of dry runs.
VOLUME /data
WORKDIR /data
# The intake (/v1/events, /v1/consent, /healthz, /metrics).
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tally"]
# The intake server and the nightly run in one process: one SQLite writer.
# Without --config tally reads $TALLY_CONFIG, else ./tally.toml (in /data),
# else built-in defaults;
# --db and --listen put the database on the volume and the intake on every
# interface whatever the config says.
CMD ["schedule", "--db", "/data/tally.db", "--listen", ":8080"]
