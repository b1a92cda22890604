# fruits services: ingest, extract, reduce (one image, the command picks the role).
FROM swift:6.0-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      libturbojpeg0-dev libdnnl-dev libopenblas-dev liblapacke-dev librdkafka-dev \
      libcurl4-openssl-dev libzstd-dev python3-venv protobuf-compiler \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
COPY schemas ./schemas
COPY tools ./tools
COPY scripts ./scripts
RUN python3 -m venv .venv && .venv/bin/pip install -q h5py==3.14.0 numpy==2.2.6 \
    && PYTHON=.venv/bin/python scripts/fetch-weights
RUN swift build -c release --product fruits --static-swift-stdlib

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libturbojpeg0 libdnnl2 libopenblas0-pthread liblapacke librdkafka1 libcurl4 libzstd1 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/.build/release/fruits /usr/local/bin/fruits
COPY --from=build /src/models/mobilenet_v2_1.0_224.fw /opt/fruits/mobilenet_v2_1.0_224.fw
ENV FRUITS_WEIGHTS=/opt/fruits/mobilenet_v2_1.0_224.fw
# Only matters with --threads > 1: OpenMP threads then sleep at barriers rather
# than spin on CPUs that co-located extractors share.
ENV OMP_WAIT_POLICY=passive
USER 65532:65532
ENTRYPOINT ["fruits"]
