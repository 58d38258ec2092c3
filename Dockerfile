# Multi-stage build: compile in the Rust image, run the single binary as a non-root user.
# Templates and migrations are compiled into the binary; only static/ is copied beside it.
FROM rust:1-bookworm AS build
# webauthn-rs (security keys) links the system's OpenSSL (the image has its headers and
# pkg-config already; kept explicit).
RUN apt-get update && apt-get install -y --no-install-recommends libssl-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY templates ./templates
# sqlx's query macros compile against this offline data, with no database at build time.
COPY .sqlx ./.sqlx
ENV SQLX_OFFLINE=true
# Declared in Cargo.toml, so the manifest needs it even for the binary alone.
COPY benches ./benches
RUN cargo build --release --locked --bin icts-review

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libssl3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin icts \
 && mkdir -p /app/data && chown icts:icts /app/data
WORKDIR /app
COPY --from=build /src/target/release/icts-review /usr/local/bin/icts-review
COPY static ./static
ENV ICTS_LISTEN=0.0.0.0:8080 \
    ICTS_STATIC_DIR=/app/static \
    ICTS_DATA_DIR=/app/data
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["icts-review"]
CMD ["serve"]
