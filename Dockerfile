# syntax=docker/dockerfile:1.7
# One image with every dualreport service binary; the Helm chart picks the
# binary per Deployment (`command: ["/usr/local/bin/<service>"]`).
#
#   docker build -t dualreport:0.1.0 .
#
# Build stage: the pinned toolchain compiles the workspace in release mode.
# Final stage: distroless "cc" (glibc, CA certificates, no shell, no package
# manager), running as the image's non-root user 65532.

# Base images are pinned by digest (the tag says which, the digest is what is
# pulled), so a rebuild gets the bytes that were reviewed; bump both together.
FROM rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1 AS build
# The CJK font volunteering sets service-hours certificates in (certificates.font_file).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Manifests first, so dependency builds are cached until they change.
COPY Cargo.toml Cargo.lock rustfmt.toml ./
COPY proto proto
COPY crates crates
COPY services services
# A workspace member (the end-to-end tests): cargo needs its manifest to resolve the workspace.
COPY tests/e2e tests/e2e
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
 && mkdir -p /out \
 && for bin in registry volunteering scoring feedback city portal dualreport; do cp "target/release/$bin" /out/; done

FROM gcr.io/distroless/cc-debian12:nonroot@sha256:9dac0a79194e45a7da0158a9c6da57b217585af0786db3845d1f0ec1a0dd182f
LABEL org.opencontainers.image.title="dualreport" \
      org.opencontainers.image.description="dualreport services: community party-building dual reporting (双报到)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/dualreport/dualreport"
COPY --from=build /out/ /usr/local/bin/
COPY --from=build /usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc /usr/share/fonts/opentype/noto/
USER 65532:65532
WORKDIR /home/nonroot
# gRPC and Prometheus ports of the services (each Deployment uses its own pair).
EXPOSE 50051 50052 50053 50054 50060 8080 9051 9052 9053 9054 9060 9080
ENTRYPOINT ["/usr/local/bin/registry"]
CMD ["serve"]
