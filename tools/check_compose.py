#!/usr/bin/env python3
"""Validates compose/docker-compose.yml without Docker: YAML syntax and the
wiring the services rely on. Prints "ok: ..." or exits non-zero.

  python tools/check_compose.py compose/docker-compose.yml
"""
import os
import sys

import yaml

FRUITS_COMMANDS = {"run", "ingest", "extract", "reduce", "featurize", "broker", "bench"}


def fail(message):
    sys.exit(f"check_compose: {message}")


def main():
    path = sys.argv[1]
    with open(path) as f:
        compose = yaml.safe_load(f)
    services = compose.get("services") or fail("no services")
    for name in ("kafka", "minio", "minio-setup", "ingest", "extract", "reduce"):
        if name not in services:
            fail(f"service {name} is missing")

    kafka_env = services["kafka"]["environment"]
    if "broker" not in kafka_env["KAFKA_PROCESS_ROLES"] or "controller" not in kafka_env["KAFKA_PROCESS_ROLES"]:
        fail("kafka must run in KRaft combined mode")
    advertised = kafka_env["KAFKA_ADVERTISED_LISTENERS"]

    for name in ("ingest", "extract", "reduce"):
        service = services[name]
        command = service.get("command") or fail(f"{name} has no command")
        if command[0] not in FRUITS_COMMANDS:
            fail(f"{name} runs unknown fruits command {command[0]!r}")
        environment = service.get("environment", {})
        brokers = environment.get("FRUITS_BROKERS", "")
        if brokers.split(":")[0] not in advertised:
            fail(f"{name} points at {brokers!r}, not at Kafka's advertised listener {advertised!r}")
        if not environment.get("AWS_ENDPOINT_URL", "").startswith("http://minio:"):
            fail(f"{name} does not use MinIO")
        if environment.get("AWS_ACCESS_KEY_ID") != services["minio"]["environment"]["MINIO_ROOT_USER"]:
            fail(f"{name} uses another access key than MinIO's")
        context = os.path.join(os.path.dirname(path), service["build"]["context"])
        if not os.path.isfile(os.path.join(context, service["build"]["dockerfile"])):
            fail(f"{name} builds from a missing Dockerfile")

    replicas = services["extract"].get("deploy", {}).get("replicas", 1)
    if replicas < 2:
        fail("the extractor should run several replicas")
    print(f"ok: {len(services)} services, {replicas} extractor replicas")


if __name__ == "__main__":
    main()
