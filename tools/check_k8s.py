#!/usr/bin/env python3
"""Renders deploy/k8s (the base) and its overlays with `kubectl kustomize`, offline,
and checks them:

- every core resource against the Kubernetes OpenAPI schemas (kubernetes-validate,
  strict: unknown fields are errors);
- the KEDA ScaledObject against KEDA's documented kafka trigger: its fields, that it
  scales a Deployment of the render, and that its triggers watch exactly the consumer
  groups and topics the extractor really uses (each --group with its --topic: the
  caller passes the code's defaults) with at most as many replicas as a topic has
  partitions;
- the promises of the deployment: one reducer that cannot run twice (replicas 1,
  Recreate, a grace period longer than a flush), probes on the upload endpoint,
  non-root pods with read-only root filesystems, limits on every container,
  Prometheus annotations on every service;
- the alerting rules: every render carries them (ConfigMap fruits-alert-rules), and
  tools/check_alerts.py checks and unit-tests them with promtool.

  tools/check_k8s.py --group fruits-extractors --topic fruits.images \
                     --group fruits-extractors-live --topic fruits.images.live
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

import kubernetes_validate
import yaml

import check_alerts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALERT_RULES = "deploy/k8s/base/alerts/fruits-rules.yaml"
RENDERS = ["deploy/k8s", "deploy/k8s/overlays/local", "deploy/k8s/overlays/aws"]
KUBERNETES_VERSION = "1.30.0"
# KEDA's kafka trigger (keda.sh/docs/2.x/scalers/apache-kafka), and which are required.
KAFKA_TRIGGER_FIELDS = {
    "bootstrapServers", "consumerGroup", "topic", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
    "allowIdleConsumers", "scaleToZeroOnInvalidOffset", "excludePersistentLag", "limitToPartitionsWithLag",
    "partitionLimitation", "version", "sasl", "tls", "unsafeSsl",
}
KAFKA_TRIGGER_REQUIRED = {"bootstrapServers", "consumerGroup", "topic"}
SCALED_OBJECT_SPEC_FIELDS = {
    "scaleTargetRef", "pollingInterval", "cooldownPeriod", "initialCooldownPeriod", "idleReplicaCount",
    "minReplicaCount", "maxReplicaCount", "fallback", "advanced", "triggers",
}

failures = []


def fail(render, message):
    failures.append(f"{render}: {message}")


def render(path):
    if shutil.which("kubectl") is None:
        sys.exit("check_k8s: kubectl (with its built-in kustomize) is not installed")
    result = subprocess.run(["kubectl", "kustomize", os.path.join(ROOT, path)], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"check_k8s: kubectl kustomize {path} failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def option(args, name):
    return args[args.index(name) + 1] if name in args else None


def fruits_container(resource):
    containers = resource["spec"]["template"]["spec"]["containers"]
    return next((c for c in containers if c["name"] == "fruits"), None)


def check_scaled_object(path, scaled, deployments, partitions, groups, topics):
    spec = scaled["spec"]
    if scaled.get("apiVersion") != "keda.sh/v1alpha1":
        fail(path, f"ScaledObject apiVersion {scaled.get('apiVersion')}")
    unknown = set(spec) - SCALED_OBJECT_SPEC_FIELDS
    if unknown:
        fail(path, f"ScaledObject has unknown fields {sorted(unknown)}")
    target = spec["scaleTargetRef"]["name"]
    if target not in deployments:
        fail(path, f"ScaledObject scales {target!r}, which is not a Deployment of the render")
        return
    extractor_args = fruits_container(deployments[target])["args"]
    if extractor_args[0] != "extract":
        fail(path, f"ScaledObject scales {target!r}, which does not run `fruits extract`")
    # The first pair is the backfill group, which `fruits extract --group` renames.
    watched = [(option(extractor_args, "--group") or groups[0], topics[0])] + list(zip(groups[1:], topics[1:]))
    if spec.get("maxReplicaCount", 100) > partitions:
        fail(path, f"maxReplicaCount {spec.get('maxReplicaCount')} above the {partitions} partitions of each topic")
    triggered = set()
    for trigger in spec["triggers"]:
        if trigger["type"] != "kafka":
            fail(path, f"trigger type {trigger['type']}")
            continue
        metadata = trigger["metadata"]
        if set(metadata) - KAFKA_TRIGGER_FIELDS:
            fail(path, f"kafka trigger has unknown fields {sorted(set(metadata) - KAFKA_TRIGGER_FIELDS)}")
        if KAFKA_TRIGGER_REQUIRED - set(metadata):
            fail(path, f"kafka trigger lacks {sorted(KAFKA_TRIGGER_REQUIRED - set(metadata))}")
        if any(not isinstance(value, str) for value in metadata.values()):
            fail(path, "kafka trigger metadata values must be strings")
        pair = (metadata.get("consumerGroup"), metadata.get("topic"))
        triggered.add(pair)
        if pair not in watched:
            fail(path, f"trigger on group {pair[0]!r} and topic {pair[1]!r}; the extractor reads {watched}")
        if not str(metadata.get("lagThreshold", "")).isdigit() or int(metadata["lagThreshold"]) < 1:
            fail(path, "lagThreshold must be a positive integer")
        if metadata.get("offsetResetPolicy") not in (None, "earliest", "latest"):
            fail(path, "offsetResetPolicy must be earliest or latest")
    for pair in watched:
        if pair not in triggered:
            fail(path, f"no trigger watches group {pair[0]!r} on {pair[1]!r}: its lag would not scale the extractors")


def check(path, documents, groups, topics):
    by_kind = {}
    for document in documents:
        by_kind.setdefault(document["kind"], {})[document["metadata"]["name"]] = document
        if document["apiVersion"].startswith("keda.sh/"):
            continue
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            fail(path, f"{document['kind']}/{document['metadata']['name']}: {error.message} at {list(error.path)}")

    deployments = by_kind.get("Deployment", {})
    jobs = by_kind.get("Job", {})
    for name, resource in {**deployments, **jobs, **by_kind.get("StatefulSet", {})}.items():
        pod = resource["spec"]["template"]["spec"]
        for container in pod["containers"]:
            limits = container.get("resources", {}).get("limits", {})
            if not {"cpu", "memory"} <= set(limits):
                fail(path, f"{name}/{container['name']} has no cpu and memory limits")
        fruits = fruits_container(resource)
        if fruits is None:
            continue
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            fail(path, f"{name} may run as root")
        if not fruits.get("securityContext", {}).get("readOnlyRootFilesystem"):
            fail(path, f"{name} has a writable root filesystem")
        if pod.get("serviceAccountName") != "fruits":
            fail(path, f"{name} does not run as the fruits service account")
        defined = {variable["name"] for variable in fruits.get("env", [])}
        for source in fruits.get("envFrom", []):
            config = by_kind.get("ConfigMap", {}).get(source.get("configMapRef", {}).get("name"), {})
            defined |= set(config.get("data", {}))
            secret = by_kind.get("Secret", {}).get(source.get("secretRef", {}).get("name"), {})
            defined |= set(secret.get("data", {}))
        for variable in re.findall(r"\$\((\w+)\)", " ".join(fruits.get("args", []))):
            if variable not in defined:
                fail(path, f"{name} refers to $({variable}), which its environment does not define")
        annotations = resource["spec"]["template"].get("metadata", {}).get("annotations", {})
        if resource["kind"] == "Deployment" and annotations.get("prometheus.io/scrape") != "true":
            fail(path, f"{name} is not scraped by Prometheus")

    reducers = [d for d in deployments.values() if fruits_container(d) and fruits_container(d)["args"][0] == "reduce"]
    if len(reducers) != 1:
        fail(path, f"{len(reducers)} reducer Deployments, expected 1")
    for reducer in reducers:
        spec = reducer["spec"]
        if spec.get("replicas") != 1 or spec.get("strategy", {}).get("type") != "Recreate":
            fail(path, "the reducer must be replicas: 1 with strategy Recreate, so two never run at once")
        if spec["template"]["spec"].get("terminationGracePeriodSeconds", 30) < 60:
            fail(path, "the reducer's grace period is shorter than a large final flush")
        if reducer["metadata"]["name"] in {s["spec"]["scaleTargetRef"]["name"] for s in by_kind.get("ScaledObject", {}).values()}:
            fail(path, "the reducer must not be autoscaled")

    uploads = [d for d in deployments.values() if fruits_container(d) and fruits_container(d)["args"][:2] == ["ingest", "serve"]]
    for upload in uploads:
        container = fruits_container(upload)
        for probe in ("readinessProbe", "livenessProbe"):
            if container.get(probe, {}).get("httpGet", {}).get("path") != "/healthz":
                fail(path, f"{upload['metadata']['name']} lacks a {probe} on /healthz")
        name = upload["metadata"]["name"]
        if name not in by_kind.get("Service", {}) or name not in by_kind.get("HorizontalPodAutoscaler", {}):
            fail(path, f"{name} needs a Service and a HorizontalPodAutoscaler")
    if not uploads:
        fail(path, "no upload endpoint Deployment")

    topics_job = next((j for j in jobs.values() if fruits_container(j) and fruits_container(j)["args"][:2] == ["topics", "create"]), None)
    if topics_job is None:
        fail(path, "no Job runs `fruits topics create`")
        partitions = 0
    else:
        partitions = int(option(fruits_container(topics_job)["args"], "--partitions") or 0)
    with open(os.path.join(ROOT, ALERT_RULES)) as rules:
        if by_kind.get("ConfigMap", {}).get("fruits-alert-rules", {}).get("data", {}).get("fruits-rules.yaml") != rules.read():
            fail(path, f"no ConfigMap fruits-alert-rules carrying {ALERT_RULES}")
    scaled_objects = by_kind.get("ScaledObject", {})
    if len(scaled_objects) != 1:
        fail(path, f"{len(scaled_objects)} ScaledObjects, expected 1 (the extractors)")
    for scaled in scaled_objects.values():
        check_scaled_object(path, scaled, deployments, partitions, groups, topics)
    return sum(len(kinds) for kinds in by_kind.values())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--group", required=True, action="append", help="a consumer group of the extractor, as the code defaults it")
    parser.add_argument("--topic", required=True, action="append", help="the topic the extractor reads in that group")
    args = parser.parse_args()
    if len(args.group) != len(args.topic):
        parser.error("give each --group with its --topic")
    counts = {path: check(path, render(path), args.group, args.topic) for path in RENDERS}
    failures.extend(f"alerts: {failure}" for failure in check_alerts.check(args.group))
    if failures:
        sys.exit("check_k8s:\n  " + "\n  ".join(failures))
    print("ok: " + ", ".join(f"{path} ({count} resources)" for path, count in counts.items()) + "; alerting rules tested")


if __name__ == "__main__":
    main()
