#!/usr/bin/env python3
"""Renders deploy/k8s (the base) and its overlays with `kubectl kustomize`, offline,
and checks them:

- every core resource against the Kubernetes OpenAPI schemas (kubernetes-validate,
  strict: unknown fields are errors);
- the KEDA ScaledObject against KEDA's documented kafka trigger: its fields, that it
  scales a Deployment of the render, and that its triggers watch exactly the consumer
  groups and topics the extractor really uses (each --group with its --topic: the
  caller passes the code's defaults) with at most as many replicas as a topic has
  partitions, all on one bootstrap list; KEDA's TriggerAuthentication by its documented
  fields, and that every authenticationRef names one of the render
  (kubernetes-validate knows neither kind);
- one service account per role: every Deployment and Job runs as fruits-<role>, its
  role read from its arguments (upload, backfill, extract, reduce, topics);
- overlays/aws: MSK over IAM (port 9098, SASL_SSL + OAUTHBEARER with the broker's
  certificate verified, FRUITS_KAFKA_AUTH=aws-msk-iam), KEDA's triggers on the same
  brokers through a TriggerAuthentication with the extractor's pod identity, every
  service account bound to its own IAM role (IRSA), and each role's IAM policy
  (deploy/aws/iam/<role>.json) granting exactly what role_access() says that role does:
  its S3 prefixes (the overlay's FRUITS_IMAGES, FRUITS_UPLOADS, FRUITS_RESULTS) and its
  MSK topics and groups (the names in Sources/), nothing more, nothing less;
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
import glob
import json
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
AWS_RENDER = "deploy/k8s/overlays/aws"
IAM_POLICIES = "deploy/aws/iam"
KUBERNETES_VERSION = "1.30.0"
# KEDA's kafka trigger (keda.sh/docs/2.x/scalers/apache-kafka), and which are required.
KAFKA_TRIGGER_FIELDS = {
    "bootstrapServers", "consumerGroup", "topic", "lagThreshold", "activationLagThreshold", "offsetResetPolicy",
    "allowIdleConsumers", "scaleToZeroOnInvalidOffset", "excludePersistentLag", "limitToPartitionsWithLag",
    "ensureEvenDistributionOfPartitions", "partitionLimitation", "version", "sasl", "saslTokenProvider", "tls",
    "unsafeSsl", "awsRegion",
}
KAFKA_TRIGGER_REQUIRED = {"bootstrapServers", "consumerGroup", "topic"}
KAFKA_TRIGGER_VALUES = {
    "sasl": {"plaintext", "scram_sha256", "scram_sha512", "gssapi", "oauthbearer", "none"},
    "saslTokenProvider": {"bearer", "aws_msk_iam"},
    "tls": {"enable", "disable"},
}
TRIGGER_FIELDS = {"type", "metadata", "name", "authenticationRef", "metricType", "useCachedMetrics"}
# KEDA's TriggerAuthentication (keda.sh/docs/2.17/concepts/authentication, providers/aws).
TRIGGER_AUTHENTICATION_SPEC_FIELDS = {
    "podIdentity", "secretTargetRef", "env", "hashiCorpVault", "azureKeyVault", "awsSecretManager", "gcpSecretManager",
}
POD_IDENTITY_FIELDS = {"provider", "identityId", "roleArn", "identityOwner"}
POD_IDENTITY_PROVIDERS = {"none", "azure-workload", "aws", "aws-eks", "gcp"}
IRSA = "eks.amazonaws.com/role-arn"
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


def role_of(args):
    """The role a `fruits` command line plays, which names its service account and IAM policy."""
    if args[:2] == ["ingest", "serve"]:
        return "upload"
    return {"ingest": "backfill", "extract": "extract", "reduce": "reduce", "answer": "answer",
            "topics": "topics"}.get(args[0] if args else None)


def check_trigger_authentication(path, authentication):
    name, spec = authentication["metadata"]["name"], authentication.get("spec", {})
    if authentication.get("apiVersion") != "keda.sh/v1alpha1":
        fail(path, f"TriggerAuthentication {name} apiVersion {authentication.get('apiVersion')}")
    if set(spec) - TRIGGER_AUTHENTICATION_SPEC_FIELDS:
        fail(path, f"TriggerAuthentication {name} has unknown fields {sorted(set(spec) - TRIGGER_AUTHENTICATION_SPEC_FIELDS)}")
    identity = spec.get("podIdentity", {})
    if set(identity) - POD_IDENTITY_FIELDS:
        fail(path, f"TriggerAuthentication {name} podIdentity has unknown fields {sorted(set(identity) - POD_IDENTITY_FIELDS)}")
    if identity and identity.get("provider") not in POD_IDENTITY_PROVIDERS:
        fail(path, f"TriggerAuthentication {name} podIdentity.provider {identity.get('provider')!r}")
    if identity.get("identityOwner") not in (None, "keda", "workload"):
        fail(path, f"TriggerAuthentication {name} podIdentity.identityOwner {identity.get('identityOwner')!r}")
    if "roleArn" in identity and "identityOwner" in identity:
        fail(path, f"TriggerAuthentication {name}: podIdentity.roleArn and identityOwner exclude each other")


def check_scaled_object(path, scaled, deployments, authentications, partitions, groups, topics):
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
    if len({trigger["metadata"].get("bootstrapServers") for trigger in spec["triggers"]}) > 1:
        fail(path, "the ScaledObject's triggers name different bootstrap lists")
    for trigger in spec["triggers"]:
        if trigger["type"] != "kafka":
            fail(path, f"trigger type {trigger['type']}")
            continue
        if set(trigger) - TRIGGER_FIELDS:
            fail(path, f"trigger has unknown fields {sorted(set(trigger) - TRIGGER_FIELDS)}")
        metadata = trigger["metadata"]
        if set(metadata) - KAFKA_TRIGGER_FIELDS:
            fail(path, f"kafka trigger has unknown fields {sorted(set(metadata) - KAFKA_TRIGGER_FIELDS)}")
        if KAFKA_TRIGGER_REQUIRED - set(metadata):
            fail(path, f"kafka trigger lacks {sorted(KAFKA_TRIGGER_REQUIRED - set(metadata))}")
        if any(not isinstance(value, str) for value in metadata.values()):
            fail(path, "kafka trigger metadata values must be strings")
        for field, allowed in KAFKA_TRIGGER_VALUES.items():
            if field in metadata and metadata[field] not in allowed:
                fail(path, f"kafka trigger {field}: {metadata[field]!r}, KEDA knows {sorted(allowed)}")
        if metadata.get("saslTokenProvider") == "aws_msk_iam" and (
                metadata.get("sasl") != "oauthbearer" or metadata.get("tls") != "enable" or not metadata.get("awsRegion")):
            fail(path, "a kafka trigger with saslTokenProvider aws_msk_iam needs sasl oauthbearer, tls enable and awsRegion")
        reference = trigger.get("authenticationRef")
        if reference is not None:
            if set(reference) - {"name", "kind"} or reference.get("kind", "TriggerAuthentication") != "TriggerAuthentication":
                fail(path, f"authenticationRef {reference}: expected the name of a TriggerAuthentication")
            elif reference.get("name") not in authentications:
                fail(path, f"authenticationRef names {reference.get('name')!r}, which is no TriggerAuthentication of the render")
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


def code_names():
    """Topic and group names as the Swift code spells them."""
    with open(os.path.join(ROOT, "Sources/Events/EventIdentity.swift")) as file:
        source = file.read()
    topics_body = source[source.index("struct PipelineTopics"):source.index("enum PipelineGroups")]
    topics = dict(re.findall(r'public var (\w+) = "([^"]+)"', topics_body))
    groups = dict(re.findall(r'public static let (\w+) = "([^"]+)"', source[source.index("enum PipelineGroups"):]))
    with open(os.path.join(ROOT, "Sources/Ingest/ResultsFeed.swift")) as file:
        groups["resultsFeed"] = re.search(r'groupID: "([^"]+)"', file.read()).group(1)
    return topics, groups


def role_access(args, topics, groups):
    """What each role does, read from the code (README "Deploy on AWS" has the same table): S3 actions
    by location (the overlay's FRUITS_IMAGES, FRUITS_UPLOADS, FRUITS_RESULTS), the topics it
    produces to, consumes, creates or only describes, and the groups it joins or only describes."""
    role = role_of(args)
    if role == "upload":  # stores uploads, queues them live, reads every answer, shows the extractors' lag
        return dict(s3={"FRUITS_UPLOADS": ["s3:PutObject", "s3:AbortMultipartUpload"]},
                    produce=[topics["liveImages"]], consume=[topics["results"]], groups=[groups["resultsFeed"]],
                    describe_topics=[topics["images"]], describe_groups=[groups["extractors"], groups["liveExtractors"]])
    if role == "backfill":  # lists the photos, queues them
        return dict(s3={"FRUITS_IMAGES": ["s3:ListBucket"]}, produce=[topics["images"]])
    if role == "extract":  # reads the photos of both queues, writes features and dead letters
        return dict(s3={"FRUITS_IMAGES": ["s3:GetObject", "s3:ListBucket"], "FRUITS_UPLOADS": ["s3:GetObject", "s3:ListBucket"]},
                    consume=[topics["images"], topics["liveImages"]], groups=[groups["extractors"], groups["liveExtractors"]],
                    produce=[topics["features"], topics["deadLetters"]])
    if role == "reduce":  # owns the Results; answers too unless --no-answers
        answers = "--no-answers" not in args
        return dict(s3={"FRUITS_RESULTS": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload",
                                           "s3:ListBucket", "s3:ListBucketMultipartUploads"]},
                    consume=[topics["features"], topics["deadLetters"]],
                    groups=[groups["reducer"]] + ([groups["answerers"]] if answers else []),
                    produce=[topics["results"]] if answers else [])
    if role == "topics":
        return dict(create=list(topics.values()))
    return None


def s3_location(uri):
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


def expected_grants(access, config, cluster):
    grants = {("kafka-cluster:Connect", cluster, None)}
    for variable, actions in access.get("s3", {}).items():
        bucket, prefix = s3_location(config[variable])
        for action in actions:
            if action == "s3:ListBucket":
                grants.add((action, f"arn:aws:s3:::{bucket}", prefix + "*"))
            elif action == "s3:ListBucketMultipartUploads":
                grants.add((action, f"arn:aws:s3:::{bucket}", None))
            else:
                grants.add((action, f"arn:aws:s3:::{bucket}/{prefix}*", None))
    topic = cluster.replace(":cluster/", ":topic/") + "/"
    group = cluster.replace(":cluster/", ":group/") + "/"
    for kind, actions, base in [("produce", ["WriteData", "DescribeTopic"], topic), ("consume", ["ReadData", "DescribeTopic"], topic),
                                ("create", ["CreateTopic", "DescribeTopic"], topic), ("describe_topics", ["DescribeTopic"], topic),
                                ("groups", ["DescribeGroup", "AlterGroup"], group), ("describe_groups", ["DescribeGroup"], group)]:
        for name in access.get(kind, []):
            grants |= {(f"kafka-cluster:{action}", base + name, None) for action in actions}
    return grants


def policy_grants(name, policy):
    """(action, resource, s3:prefix) for every Allow of an IAM policy; anything else is a failure."""
    as_list = lambda value: value if isinstance(value, list) else [value]
    grants = set()
    if policy.get("Version") != "2012-10-17":
        fail(name, f"Version {policy.get('Version')!r}, expected 2012-10-17")
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow" or set(statement) - {"Sid", "Effect", "Action", "Resource", "Condition"}:
            fail(name, f"statement {statement.get('Sid')}: only Allow with Action, Resource and Condition is expected")
            continue
        actions, prefixes = as_list(statement["Action"]), [None]
        condition = statement.get("Condition")
        if condition is not None:
            if actions != ["s3:ListBucket"] or list(condition) != ["StringLike"] or list(condition["StringLike"]) != ["s3:prefix"]:
                fail(name, f"statement {statement.get('Sid')}: the only condition expected is s3:prefix on s3:ListBucket")
                continue
            prefixes = as_list(condition["StringLike"]["s3:prefix"])
        grants |= {(a, r, p) for a in actions for r in as_list(statement["Resource"]) for p in prefixes}
    return grants


def check_aws(path, by_kind):
    config = by_kind["ConfigMap"]["fruits-config"]["data"]
    properties = dict(line.split("=", 1) for line in config.get("FRUITS_KAFKA_PROPERTIES", "").splitlines() if "=" in line)
    for key, value in {"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER",
                       "ssl.endpoint.identification.algorithm": "https"}.items():
        if properties.get(key) != value:
            fail(path, f"FRUITS_KAFKA_PROPERTIES: {key}={properties.get(key)}, expected {value}")
    if properties.get("enable.ssl.certificate.verification", "true") != "true":
        fail(path, "FRUITS_KAFKA_PROPERTIES turns the broker's certificate verification off")
    if config.get("FRUITS_KAFKA_AUTH") != "aws-msk-iam" or config.get("FRUITS_AWS_REGION") != config.get("AWS_REGION"):
        fail(path, "FRUITS_KAFKA_AUTH must be aws-msk-iam, with FRUITS_AWS_REGION the AWS_REGION")
    brokers = config.get("FRUITS_BROKERS", "")
    if any(not broker.endswith(":9098") for broker in brokers.split(",")):
        fail(path, f"FRUITS_BROKERS {brokers}: MSK's IAM listener is port 9098")

    accounts = by_kind.get("ServiceAccount", {})
    for scaled in by_kind.get("ScaledObject", {}).values():
        target = by_kind["Deployment"].get(scaled["spec"]["scaleTargetRef"]["name"], {})
        for trigger in scaled["spec"]["triggers"]:
            metadata = trigger["metadata"]
            if metadata.get("bootstrapServers") != brokers:
                fail(path, f"the trigger on {metadata.get('consumerGroup')} watches {metadata.get('bootstrapServers')}, not FRUITS_BROKERS")
            if metadata.get("saslTokenProvider") != "aws_msk_iam" or metadata.get("awsRegion") != config.get("AWS_REGION"):
                fail(path, f"the trigger on {metadata.get('consumerGroup')} must use MSK IAM (saslTokenProvider aws_msk_iam) in AWS_REGION")
            authentication = by_kind.get("TriggerAuthentication", {}).get(trigger.get("authenticationRef", {}).get("name"))
            identity = (authentication or {}).get("spec", {}).get("podIdentity", {})
            if identity.get("provider") != "aws" or identity.get("identityOwner") != "workload":
                fail(path, f"the trigger on {metadata.get('consumerGroup')} must authenticate through a TriggerAuthentication "
                           "with podIdentity {provider: aws, identityOwner: workload}")
            account = target.get("spec", {}).get("template", {}).get("spec", {}).get("serviceAccountName")
            if IRSA not in accounts.get(account, {}).get("metadata", {}).get("annotations", {}):
                fail(path, f"KEDA takes the identity of {account}, which has no IAM role ({IRSA})")

    topics, groups = code_names()
    role_arns = {}
    clusters = {}
    policies_used = set()
    for resource in {**by_kind.get("Deployment", {}), **by_kind.get("Job", {})}.values():
        fruits = fruits_container(resource)
        if fruits is None:
            continue
        role, account = role_of(fruits["args"]), resource["spec"]["template"]["spec"].get("serviceAccountName")
        arn = accounts.get(account, {}).get("metadata", {}).get("annotations", {}).get(IRSA, "")
        match = re.fullmatch(r"arn:aws:iam::(\d{12}):role/(.+)", arn)
        if not match or match.group(2) != account:
            fail(path, f"service account {account} must carry {IRSA}: arn:aws:iam::<account>:role/{account}")
        else:
            role_arns[account] = match.group(1)
        access = role_access(fruits["args"], topics, groups)
        policy_file = os.path.join(IAM_POLICIES, f"{role}.json")
        if access is None or not os.path.exists(os.path.join(ROOT, policy_file)):
            fail(path, f"{resource['metadata']['name']} ({role}): no IAM policy {policy_file}, or no role_access() entry for it")
            continue
        policies_used.add(policy_file)
        try:
            with open(os.path.join(ROOT, policy_file)) as file:
                policy = json.load(file)
        except json.JSONDecodeError as error:
            fail(policy_file, f"not JSON: {error}")
            continue
        granted = policy_grants(policy_file, policy)
        connects = [resource for action, resource, _ in granted if action == "kafka-cluster:Connect"]
        cluster = re.fullmatch(r"arn:aws:kafka:([a-z0-9-]+):(\d{12}):cluster/[^/*]+/[^/*]+", connects[0]) if len(connects) == 1 else None
        if cluster is None:
            fail(policy_file, f"expected kafka-cluster:Connect on one cluster ARN (arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID), got {connects}")
            continue
        clusters[policy_file] = (cluster.group(0), cluster.group(1), cluster.group(2))
        expected = expected_grants(access, config, cluster.group(0))
        show = lambda grants: "; ".join(f"{a} on {r}" + (f" (s3:prefix {p})" if p else "") for a, r, p in sorted(grants, key=str))
        if granted - expected:
            fail(policy_file, f"grants what {role} does not do: {show(granted - expected)}")
        if expected - granted:
            fail(policy_file, f"lacks what {role} needs: {show(expected - granted)}")
    if len(set(clusters.values())) > 1 or any(region != config.get("AWS_REGION") for _, region, _ in clusters.values()):
        fail(path, f"the IAM policies must name one MSK cluster in AWS_REGION: {sorted(set(clusters.values()))}")
    if len(set(role_arns.values()) | {account for _, _, account in clusters.values()}) > 1:
        fail(path, "the IRSA roles and the MSK cluster must be in one AWS account")
    for stale in set(os.path.relpath(f, ROOT) for f in glob.glob(os.path.join(ROOT, IAM_POLICIES, "*.json"))) - policies_used:
        fail(stale, "no workload of the aws overlay has this role")


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
        role = role_of(fruits["args"])
        account = pod.get("serviceAccountName")
        if role is None:
            fail(path, f"{name} runs `fruits {' '.join(fruits['args'][:2])}`, which is no role this check knows")
        elif account != f"fruits-{role}":
            fail(path, f"{name} ({role}) runs as service account {account!r}, not its role's fruits-{role}")
        elif account not in by_kind.get("ServiceAccount", {}):
            fail(path, f"{name} runs as service account {account}, which the render does not define")
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
        check_scaled_object(path, scaled, deployments, by_kind.get("TriggerAuthentication", {}), partitions, groups, topics)
    for authentication in by_kind.get("TriggerAuthentication", {}).values():
        check_trigger_authentication(path, authentication)
    if path == AWS_RENDER:
        check_aws(path, by_kind)
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
