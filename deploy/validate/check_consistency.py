#!/usr/bin/env python3
"""Cross-file checks of the Kubernetes deployment: names, ports, keys and
versions that several files must agree on, which no schema can see.

  check_consistency.py ROOT RENDERED_DIR

RENDERED_DIR holds what scripts/validate-k8s.sh rendered:
  strimzi.yaml              kustomize build deploy/strimzi
  minio-base.yaml           kustomize build deploy/minio/base
  minio-distributed.yaml    kustomize build deploy/minio/overlays/distributed
  chart-default.yaml        helm template (release imgpipe, namespace imgpipe), default values
  chart-all-features.yaml   the same with ci/all-features-values.yaml
Prints one line per check; exit status 1 when any fails.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

RESULTS: list[tuple[str, list[str]]] = []


def check(name):
    def wrap(fn):
        def run(*args):
            problems: list[str] = []
            try:
                fn(problems, *args)
            except Exception as error:  # a missing object is a failed check, not a crash
                problems.append(f"{type(error).__name__}: {error}")
            RESULTS.append((name, problems))
        run.__name__ = fn.__name__
        return run
    return wrap


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d]


def find(docs, kind, name=None):
    found = [d for d in docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]
    return found


def one(docs, kind, name=None):
    found = find(docs, kind, name)
    if len(found) != 1:
        raise LookupError(f"expected one {kind}{' ' + name if name else ''}, found {len(found)}")
    return found[0]


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def container(workload, name=None):
    containers = pod_spec(workload)["containers"]
    if name is None:
        return containers[0]
    return next(c for c in containers if c["name"] == name)


def env_of(c) -> dict:
    return {e["name"]: e for e in c.get("env", [])}


def env_value(c, name):
    e = env_of(c).get(name)
    if e is None:
        raise LookupError(f"container {c['name']} has no env {name}")
    if "value" not in e:
        raise LookupError(f"env {name} of container {c['name']} is not a literal value")
    return e["value"]


def matches(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def secret_keys(secret) -> set:
    return set(secret.get("data", {})) | set(secret.get("stringData", {}))


class World:
    """Everything loaded once."""

    def __init__(self, root, rendered):
        self.root = root
        self.strimzi = load_all(os.path.join(rendered, "strimzi.yaml"))
        self.minio = {m: load_all(os.path.join(rendered, f"minio-{m}.yaml")) for m in ("base", "distributed")}
        self.chart = {v: load_all(os.path.join(rendered, f"chart-{v}.yaml")) for v in ("default", "all-features")}
        with open(os.path.join(root, "deploy/kind/kind-config.yaml"), encoding="utf-8") as f:
            self.kind = yaml.safe_load(f)
        self.kafka = one(self.strimzi, "Kafka")
        self.kafka_name = self.kafka["metadata"]["name"]
        self.kafka_ns = self.kafka["metadata"]["namespace"]
        self.topics = {t["spec"].get("topicName", t["metadata"]["name"]): t for t in find(self.strimzi, "KafkaTopic")}
        self.pools = find(self.strimzi, "KafkaNodePool")

    def script_constants(self, rel) -> dict:
        """readonly NAME=value lines of a shell script."""
        with open(os.path.join(self.root, rel), encoding="utf-8") as f:
            text = f.read()
        constants = {}
        for m in re.finditer(r"^(?:readonly\s+)?([A-Z_][A-Z0-9_]*)=(?:\"\$\{[A-Z_]+:-)?([^\s}\"]+)", text, re.M):
            constants.setdefault(m.group(1), m.group(2).strip("\"'"))  # the first assignment
        return constants

    def listener(self, type_, tls=None):
        for l in self.kafka["spec"]["kafka"]["listeners"]:
            if l["type"] == type_ and (tls is None or l["tls"] == tls):
                return l
        raise LookupError(f"Kafka {self.kafka_name} has no {type_} listener")

    def broker_ids(self) -> list[int]:
        ids = []
        for p in self.pools:
            if "broker" in p["spec"]["roles"]:
                ids += node_ids(p)
        return sorted(ids)


def node_ids(pool) -> list[int]:
    """The ids a pool's nodes get: from strimzi.io/next-node-ids, else unknown."""
    ann = pool["metadata"].get("annotations", {}).get("strimzi.io/next-node-ids")
    if not ann:
        raise LookupError(f"KafkaNodePool {pool['metadata']['name']} has no strimzi.io/next-node-ids annotation")
    ids = []
    for part in ann.strip("[]").split(","):
        lo, _, hi = part.strip().partition("-")
        ids += list(range(int(lo), int(hi or lo) + 1))
    return ids[: pool["spec"]["replicas"]]


def check_bootstrap(problems, w: World, where: str, servers: str):
    internal = w.listener("internal", tls=True)
    for server in servers.split(","):
        host, _, port = server.rpartition(":")
        m = re.fullmatch(r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?", host)
        want = f"{w.kafka_name}-kafka-bootstrap"
        if not m:
            problems.append(f"{where}: {server!r} is not <service>.<namespace>.svc:<port>")
        elif (m.group(1), m.group(2)) != (want, w.kafka_ns):
            problems.append(f"{where}: {server!r} names {m.group(1)}.{m.group(2)}, but Kafka "
                            f"{w.kafka_name} creates {want}.{w.kafka_ns}")
        elif int(port) != internal["port"]:
            problems.append(f"{where}: port {port}, but the internal TLS listener is on {internal['port']}")


def minio_container(docs):
    return container(one(docs, "StatefulSet", "minio"), "minio")


def chart_worker(docs):
    return container(one(docs, "Deployment"), "imgpipe")


def chart_jobs(docs):
    """The chart's Jobs (setup) and the Job template of each CronJob (reconcile), as
    objects of the Job's shape (spec.template), kind and metadata their own."""
    jobs = find(docs, "Job")
    for cj in find(docs, "CronJob"):
        jobs.append({"kind": "CronJob", "metadata": cj["metadata"], "spec": cj["spec"]["jobTemplate"]["spec"]})
    return jobs


def job_name(job) -> str:
    return f"{job['kind']} {job['metadata']['name']}"


# --------------------------------------------------------------------------- checks

@check("bootstrap service: MinIO, the worker, the setup Job, the reconcile CronJob and KEDA use <kafka>-kafka-bootstrap.<ns>.svc:<TLS port>")
def bootstrap(problems, w: World):
    for mode, docs in w.minio.items():
        check_bootstrap(problems, w, f"minio-{mode} MINIO_NOTIFY_KAFKA_BROKERS_PRIMARY",
                        env_value(minio_container(docs), "MINIO_NOTIFY_KAFKA_BROKERS_PRIMARY"))
    for values, docs in w.chart.items():
        worker = chart_worker(docs)
        check_bootstrap(problems, w, f"chart/{values} IMGPIPE_KAFKA_BROKERS", env_value(worker, "IMGPIPE_KAFKA_BROKERS"))
        for so in find(docs, "ScaledObject"):
            for t in so["spec"]["triggers"]:
                check_bootstrap(problems, w, f"chart/{values} ScaledObject", t["metadata"]["bootstrapServers"])
        for job in chart_jobs(docs):
            check_bootstrap(problems, w, f"chart/{values} {job_name(job)}",
                            env_value(container(job), "IMGPIPE_KAFKA_BROKERS"))


@check("topics: KafkaTopic, MinIO's target, the worker, the setup Job, the reconcile CronJob and KEDA name the same topics")
def topics(problems, w: World):
    for name, t in w.topics.items():
        if t["metadata"].get("labels", {}).get("strimzi.io/cluster") != w.kafka_name:
            problems.append(f"KafkaTopic {name}: label strimzi.io/cluster is not {w.kafka_name}")
        if t["metadata"]["namespace"] != w.kafka_ns:
            problems.append(f"KafkaTopic {name}: namespace {t['metadata']['namespace']}, the topic operator watches {w.kafka_ns}")
    for mode, docs in w.minio.items():
        topic = env_value(minio_container(docs), "MINIO_NOTIFY_KAFKA_TOPIC_PRIMARY")
        if topic not in w.topics:
            problems.append(f"minio-{mode}: MINIO_NOTIFY_KAFKA_TOPIC_PRIMARY={topic} has no KafkaTopic")
    for values, docs in w.chart.items():
        workers = [chart_worker(docs)] + [container(j) for j in chart_jobs(docs)]
        for c in workers:
            topic = env_value(c, "IMGPIPE_KAFKA_TOPIC")
            dlq = env_value(c, "IMGPIPE_KAFKA_DLQ_TOPIC")
            for var, t in (("IMGPIPE_KAFKA_TOPIC", topic), ("IMGPIPE_KAFKA_DLQ_TOPIC", dlq)):
                if t not in w.topics:
                    problems.append(f"chart/{values} {c['name']}: {var}={t} has no KafkaTopic")
            if topic in w.topics:
                kt = w.topics[topic]["spec"]
                if int(env_value(c, "IMGPIPE_KAFKA_PARTITIONS")) != kt["partitions"]:
                    problems.append(f"chart/{values} {c['name']}: IMGPIPE_KAFKA_PARTITIONS="
                                    f"{env_value(c, 'IMGPIPE_KAFKA_PARTITIONS')}, KafkaTopic {topic} has {kt['partitions']}")
                if int(env_value(c, "IMGPIPE_KAFKA_REPLICATION")) != kt["replicas"]:
                    problems.append(f"chart/{values} {c['name']}: IMGPIPE_KAFKA_REPLICATION="
                                    f"{env_value(c, 'IMGPIPE_KAFKA_REPLICATION')}, KafkaTopic {topic} has {kt['replicas']} replicas")
        group = env_value(chart_worker(docs), "IMGPIPE_KAFKA_GROUP")
        for so in find(docs, "ScaledObject"):
            for t in so["spec"]["triggers"]:
                if t["metadata"]["topic"] != env_value(chart_worker(docs), "IMGPIPE_KAFKA_TOPIC"):
                    problems.append(f"chart/{values}: ScaledObject watches topic {t['metadata']['topic']}")
                if t["metadata"]["consumerGroup"] != group:
                    problems.append(f"chart/{values}: ScaledObject watches group {t['metadata']['consumerGroup']}, the worker joins {group}")
        for job in find(docs, "Job"):
            args = container(job)["args"]
            if "--partitions" in args and int(args[args.index("--partitions") + 1]) != int(
                    env_value(container(job), "IMGPIPE_KAFKA_PARTITIONS")):
                problems.append(f"chart/{values}: setup --partitions disagrees with IMGPIPE_KAFKA_PARTITIONS")


@check("replication: RF 3 and min ISR 2 on the cluster and every topic, enough brokers for both")
def replication(problems, w: World):
    config = w.kafka["spec"]["kafka"]["config"]
    brokers = len(w.broker_ids())
    want = {"default.replication.factor": 3, "min.insync.replicas": 2, "offsets.topic.replication.factor": 3,
            "transaction.state.log.replication.factor": 3, "transaction.state.log.min.isr": 2}
    for key, value in want.items():
        if int(config.get(key, -1)) != value:
            problems.append(f"Kafka config {key}={config.get(key)}, want {value}")
    for key in ("default.replication.factor", "offsets.topic.replication.factor"):
        if int(config.get(key, 0)) > brokers:
            problems.append(f"Kafka config {key}={config[key]} but only {brokers} brokers")
    for name, t in w.topics.items():
        replicas = t["spec"]["replicas"]
        isr = int(t["spec"].get("config", {}).get("min.insync.replicas", config.get("min.insync.replicas", 1)))
        if replicas != 3 or isr != 2:
            problems.append(f"KafkaTopic {name}: replicas {replicas}, min.insync.replicas {isr}; want 3 and 2")
        if replicas > brokers:
            problems.append(f"KafkaTopic {name}: {replicas} replicas but {brokers} brokers")
        if isr >= replicas:
            problems.append(f"KafkaTopic {name}: min.insync.replicas {isr} >= replicas {replicas}: one broker down stops writes")


@check("node pools: controllers and brokers of this cluster, disjoint node ids, spread by pool")
def node_pools(problems, w: World):
    roles, all_ids = set(), []
    for p in w.pools:
        name = p["metadata"]["name"]
        if p["metadata"].get("labels", {}).get("strimzi.io/cluster") != w.kafka_name:
            problems.append(f"KafkaNodePool {name}: label strimzi.io/cluster is not {w.kafka_name}")
        if p["metadata"]["namespace"] != w.kafka_ns:
            problems.append(f"KafkaNodePool {name}: not in namespace {w.kafka_ns}")
        roles |= set(p["spec"]["roles"])
        ids = node_ids(p)
        if len(ids) < p["spec"]["replicas"]:
            problems.append(f"KafkaNodePool {name}: next-node-ids gives {len(ids)} ids for {p['spec']['replicas']} replicas")
        all_ids += ids
        spreads = p["spec"].get("template", {}).get("pod", {}).get("topologySpreadConstraints", [])
        if not spreads:
            problems.append(f"KafkaNodePool {name}: no topologySpreadConstraints")
        for s in spreads:
            sel = s.get("labelSelector", {}).get("matchLabels", {})
            if sel.get("strimzi.io/pool-name") != name or sel.get("strimzi.io/cluster") != w.kafka_name:
                problems.append(f"KafkaNodePool {name}: spread selector {sel} does not select this pool's pods")
            if s.get("topologyKey") != "kubernetes.io/hostname":
                problems.append(f"KafkaNodePool {name}: spread over {s.get('topologyKey')}, not the nodes")
    if roles != {"controller", "broker"}:
        problems.append(f"node pools cover roles {sorted(roles)}, want controller and broker")
    if len(all_ids) != len(set(all_ids)):
        problems.append(f"node ids overlap between pools: {all_ids}")
    workers = sum(1 for n in w.kind["nodes"] if n["role"] == "worker")
    for p in w.pools:
        if p["spec"]["replicas"] > workers:
            problems.append(f"KafkaNodePool {p['metadata']['name']}: {p['spec']['replicas']} replicas "
                            f"cannot spread over {workers} kind workers")


@check("kind ports: extraPortMappings are exactly the nodePorts of MinIO and the Kafka external listener")
def kind_ports(problems, w: World):
    mappings = {}
    for n in w.kind["nodes"]:
        for m in n.get("extraPortMappings", []):
            mappings[m["containerPort"]] = m
    node_ports = {}
    for mode, docs in w.minio.items():
        for svc in find(docs, "Service"):
            if svc["spec"].get("type") == "NodePort":
                for p in svc["spec"]["ports"]:
                    if "nodePort" not in p:
                        problems.append(f"minio-{mode} Service {svc['metadata']['name']} port {p['name']}: no fixed nodePort")
                    else:
                        node_ports[p["nodePort"]] = f"MinIO {svc['metadata']['name']}/{p['name']}"
    ext = w.listener("nodeport")
    conf = ext.get("configuration", {})
    if "nodePort" not in conf.get("bootstrap", {}):
        problems.append("Kafka external listener: bootstrap has no fixed nodePort")
    else:
        node_ports[conf["bootstrap"]["nodePort"]] = "Kafka external bootstrap"
    listed = {}
    for b in conf.get("brokers", []):
        node_ports[b["nodePort"]] = f"Kafka broker {b['broker']}"
        listed[b["broker"]] = b
        m = mappings.get(b["nodePort"])
        if m and b.get("advertisedPort") != m.get("hostPort"):
            problems.append(f"Kafka broker {b['broker']} advertises port {b.get('advertisedPort')}, "
                            f"kind maps it to host port {m.get('hostPort')}")
        if m and b.get("advertisedHost") not in ("localhost", m.get("listenAddress", "0.0.0.0"), "127.0.0.1"):
            problems.append(f"Kafka broker {b['broker']} advertises host {b.get('advertisedHost')}, "
                            f"kind listens on {m.get('listenAddress')}")
    if sorted(listed) != w.broker_ids():
        problems.append(f"external listener lists brokers {sorted(listed)}, the broker pools have ids {w.broker_ids()}")
    for port in sorted(set(mappings) - set(node_ports)):
        problems.append(f"kind maps containerPort {port}, which no Service or Kafka listener uses")
    for port in sorted(set(node_ports) - set(mappings)):
        problems.append(f"{node_ports[port]} uses nodePort {port}, which kind does not map")
    for port in node_ports:
        if not 30000 <= port <= 32767:
            problems.append(f"nodePort {port} outside the default range 30000-32767")
    roles = [n["role"] for n in w.kind["nodes"]]
    if roles.count("control-plane") != 1 or roles.count("worker") != 3:
        problems.append(f"kind nodes {roles}: want one control-plane and three workers")


@check("kind image and schemas: the node image's Kubernetes version is the one the schemas come from")
def kind_version(problems, w: World):
    pinned = w.script_constants("scripts/k8s-tools.sh")["KUBERNETES_VERSION"]
    for i, n in enumerate(w.kind["nodes"]):
        m = re.match(r"kindest/node:(v[0-9.]+)@", n.get("image", ""))
        if not m:
            problems.append(f"kind node {i}: image not pinned as kindest/node:vX.Y.Z@sha256:...")
        elif m.group(1) != pinned:
            problems.append(f"kind node {i} runs Kubernetes {m.group(1)}, scripts/k8s-tools.sh validates against {pinned}")


@check("secrets: every secretKeyRef names a Secret and key that exist (MinIO's, which the chart reads)")
def secrets(problems, w: World):
    for mode, docs in w.minio.items():
        secrets_by_name = {s["metadata"]["name"]: s for s in find(docs, "Secret")}
        ns = one(docs, "StatefulSet", "minio")["metadata"]["namespace"]
        refs = []
        for c in pod_spec(one(docs, "StatefulSet", "minio"))["containers"]:
            refs += [(f"minio-{mode} {c['name']}", e) for e in c.get("env", [])]
        chart_ns = w.script_constants("scripts/kind-up.sh").get("APP_NAMESPACE")
        if chart_ns != ns:
            problems.append(f"scripts/kind-up.sh installs the chart into {chart_ns!r}, MinIO's Secret is in {ns!r}")
        for values in ("default",):  # all-features points at Secrets a user brings
            docs_c = w.chart[values]
            for wl in find(docs_c, "Deployment") + chart_jobs(docs_c):
                refs += [(f"chart/{values} {wl['kind']}", e) for e in container(wl).get("env", [])]
        keys = {name: secret_keys(s) for name, s in secrets_by_name.items()}
        copied, _ = kind_copied_secrets(w)
        keys.update(copied)
        wanted = [(where, e["name"], e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
                  for where, e in refs if e.get("valueFrom", {}).get("secretKeyRef")]
        workloads = [(f"minio-{mode}", one(docs, "StatefulSet", "minio"))]
        workloads += [(f"chart/default {wl['kind']}", wl)
                      for wl in find(w.chart["default"], "Deployment") + chart_jobs(w.chart["default"])]
        for where, wl in workloads:
            for v in pod_spec(wl).get("volumes", []):
                if "secret" in v:
                    for item in v["secret"].get("items", []):
                        wanted.append((where, f"volume {v['name']}", v["secret"]["secretName"], item["key"]))
        for where, what, name, key in wanted:
            if name not in keys:
                problems.append(f"{where}: {what} reads Secret {name}, which neither deploy/minio creates "
                                "nor scripts/kind-up.sh copies")
            elif key not in keys[name]:
                problems.append(f"{where}: {what} reads key {key} of Secret {name}, which has {sorted(keys[name])}")
    for so in find(w.chart["all-features"], "ScaledObject"):
        for t in so["spec"]["triggers"]:
            ref = t.get("authenticationRef", {}).get("name")
            if ref and not find(w.chart["all-features"], "TriggerAuthentication", ref):
                problems.append(f"ScaledObject uses TriggerAuthentication {ref}, which the chart does not render")


def kind_copied_secrets(w: World):
    """The Secrets scripts/kind-up.sh copies from namespace kafka: {secret: keys} and {secret: KafkaUser}."""
    with open(os.path.join(w.root, "scripts/kind-up.sh"), encoding="utf-8") as f:
        text = f.read()
    copied, users = {}, {}
    if "create secret generic kafka-cluster-ca" in text:
        copied["kafka-cluster-ca"] = {"ca.crt"}
    m = re.search(r"for user in ([^;]+);", text)
    for pair in (m.group(1).split() if m else []):
        user, _, target = pair.partition(":")
        copied[target], users[target] = {"username", "password"}, user
    return copied, users


def acl_allows(user, resource_type, name, operation) -> bool:
    for acl in user["spec"].get("authorization", {}).get("acls", []):
        r = acl["resource"]
        if r["type"] == resource_type and r.get("name") == name and r.get("patternType", "literal") == "literal" \
                and operation in acl["operations"]:
            return True
    return False


@check("kafka users: MinIO, the worker, the setup Job and the reconcile CronJob log in as KafkaUsers (SCRAM-SHA-512) whose ACLs allow their work and no more")
def kafka_users(problems, w: World):
    if w.kafka["spec"]["kafka"].get("authorization", {}).get("type") != "simple":
        problems.append(f"Kafka {w.kafka_name}: no authorization, so ACLs are not enforced")
    for listener in w.kafka["spec"]["kafka"]["listeners"]:
        if not listener.get("tls") or listener.get("authentication", {}).get("type") != "scram-sha-512":
            problems.append(f"Kafka {w.kafka_name}: listener {listener['name']} is not TLS with SCRAM-SHA-512")
    users = {u["metadata"]["name"]: u for u in find(w.strimzi, "KafkaUser")}
    _, secret_user = kind_copied_secrets(w)
    # (who, its Kafka Secret, what it must be allowed, what it must not)
    roles = []
    minio = minio_container(w.minio["base"])
    minio_user = env_of(minio).get("MINIO_NOTIFY_KAFKA_SASL_USERNAME_PRIMARY", {}).get("value")
    minio_topic = env_value(minio, "MINIO_NOTIFY_KAFKA_TOPIC_PRIMARY")
    roles.append(("MinIO", minio_user, [("topic", minio_topic, "Write")], [("topic", minio_topic, "Read")]))
    docs = w.chart["default"]
    worker_secret = env_of(chart_worker(docs))["IMGPIPE_KAFKA_SASL_USERNAME"]["valueFrom"]["secretKeyRef"]["name"]
    topic = env_value(chart_worker(docs), "IMGPIPE_KAFKA_TOPIC")
    dlq = env_value(chart_worker(docs), "IMGPIPE_KAFKA_DLQ_TOPIC")
    group = env_value(chart_worker(docs), "IMGPIPE_KAFKA_GROUP")
    roles.append(("the worker", secret_user.get(worker_secret),
                  [("topic", topic, "Read"), ("group", group, "Read"), ("topic", dlq, "Write")],
                  [("topic", topic, "Write")]))
    for cj in find(w.chart["all-features"], "CronJob"):
        vols = pod_spec({"spec": cj["spec"]["jobTemplate"]["spec"]}).get("volumes", [])
        secret = next((v["secret"]["secretName"] for v in vols if v["name"] == "kafka-secret"), None)
        roles.append(("the reconcile CronJob", secret_user.get(secret), [("topic", topic, "Write")],
                      [("topic", topic, "Read")]))
    for who, name, allowed, refused in roles:
        user = users.get(name)
        if user is None:
            problems.append(f"{who} logs in as {name!r}, which is no KafkaUser of deploy/strimzi")
            continue
        if user["spec"].get("authentication", {}).get("type") != "scram-sha-512":
            problems.append(f"KafkaUser {name}: authentication is not scram-sha-512")
        for rtype, rname, op in allowed:
            if not acl_allows(user, rtype, rname, op):
                problems.append(f"KafkaUser {name} ({who}): no ACL allows {op} on {rtype} {rname}")
        for rtype, rname, op in refused:
            if acl_allows(user, rtype, rname, op) or acl_allows(user, rtype, rname, "All"):
                problems.append(f"KafkaUser {name} ({who}): may {op} {rtype} {rname}, which it never needs")


@check("S3 endpoint: the worker's IMGPIPE_S3_ENDPOINT is MinIO's Service and API port")
def s3_endpoint(problems, w: World):
    docs = w.minio["base"]
    for values, cdocs in w.chart.items():
        endpoint = env_value(chart_worker(cdocs), "IMGPIPE_S3_ENDPOINT")
        m = re.fullmatch(r"https?://([a-z0-9-]+)\.([a-z0-9-]+)\.svc(?:\.cluster\.local)?:([0-9]+)/?", endpoint)
        if not m:
            problems.append(f"chart/{values}: IMGPIPE_S3_ENDPOINT={endpoint} is not http://<service>.<ns>.svc:<port>")
            continue
        svc = find(docs, "Service", m.group(1))
        if not svc or svc[0]["metadata"]["namespace"] != m.group(2):
            problems.append(f"chart/{values}: IMGPIPE_S3_ENDPOINT names Service {m.group(1)}.{m.group(2)}, not in deploy/minio")
            continue
        port = next((p for p in svc[0]["spec"]["ports"] if p["port"] == int(m.group(3))), None)
        mc = minio_container(docs)
        api_ports = {p["name"]: p["containerPort"] for p in mc["ports"]}
        if port is None:
            problems.append(f"chart/{values}: Service {m.group(1)} has no port {m.group(3)}")
        elif api_ports.get(port["targetPort"], port["targetPort"]) != 9000 or "--address=:9000" not in mc["args"]:
            problems.append(f"chart/{values}: Service {m.group(1)}:{m.group(3)} does not reach MinIO's S3 API (--address)")


@check("notification target: IMGPIPE_NOTIFY_ARN is the ARN of MinIO's Kafka target, whose queue is on the PVC, events synchronous")
def notify_target(problems, w: World):
    for mode, docs in w.minio.items():
        sts = one(docs, "StatefulSet", "minio")
        env = env_of(minio_container(docs))
        ids = [n[len("MINIO_NOTIFY_KAFKA_ENABLE_"):] for n, e in env.items()
               if n.startswith("MINIO_NOTIFY_KAFKA_ENABLE_") and e.get("value") == "on"]
        if len(ids) != 1:
            problems.append(f"minio-{mode}: {len(ids)} enabled Kafka targets, want one")
            continue
        target = ids[0]
        for key in ("BROKERS", "TOPIC", "QUEUE_DIR"):
            if f"MINIO_NOTIFY_KAFKA_{key}_{target}" not in env:
                problems.append(f"minio-{mode}: MINIO_NOTIFY_KAFKA_{key}_{target} missing")
        if env.get("MINIO_API_SYNC_EVENTS", {}).get("value") != "on":
            problems.append(f"minio-{mode}: MINIO_API_SYNC_EVENTS is not on (events dispatched after the 200 can be lost)")
        arn = f"arn:minio:sqs::{target}:kafka"
        for values, cdocs in w.chart.items():
            got = env_value(chart_worker(cdocs), "IMGPIPE_NOTIFY_ARN")
            if got != arn:
                problems.append(f"chart/{values}: IMGPIPE_NOTIFY_ARN={got}, MinIO's target is {arn}")
        queue = env.get(f"MINIO_NOTIFY_KAFKA_QUEUE_DIR_{target}", {}).get("value", "")
        claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
        mounts = [m for m in minio_container(docs)["volumeMounts"]
                  if queue == m["mountPath"] or queue.startswith(m["mountPath"].rstrip("/") + "/")]
        if not mounts or mounts[-1]["name"] not in claims:
            problems.append(f"minio-{mode}: queue_dir {queue!r} is not on a PersistentVolumeClaim")
        drives = [a for a in minio_container(docs)["args"][1:] if not a.startswith("-")]
        for d in drives:
            path = "/" + d.split("/", 3)[3] if d.startswith("http") else d
            if queue == path or queue.startswith(path.rstrip("/") + "/"):
                problems.append(f"minio-{mode}: queue_dir {queue} is inside the data drive {path} (MinIO would list it as a bucket)")


@check("MinIO: headless Service, selectors, distributed peers and replicas agree")
def minio_layout(problems, w: World):
    for mode, docs in w.minio.items():
        sts = one(docs, "StatefulSet", "minio")
        ns, labels = sts["metadata"]["namespace"], sts["spec"]["template"]["metadata"]["labels"]
        if not matches(sts["spec"]["selector"]["matchLabels"], labels):
            problems.append(f"minio-{mode}: StatefulSet selector does not match its pod labels")
        headless = find(docs, "Service", sts["spec"]["serviceName"])
        if not headless or headless[0]["spec"].get("clusterIP") != "None":
            problems.append(f"minio-{mode}: serviceName {sts['spec']['serviceName']} is not a headless Service")
        elif not headless[0]["spec"].get("publishNotReadyAddresses"):
            problems.append(f"minio-{mode}: headless Service must publish not-ready addresses (peers find each other before ready)")
        for svc in find(docs, "Service"):
            if not matches(svc["spec"]["selector"], labels):
                problems.append(f"minio-{mode}: Service {svc['metadata']['name']} selects no MinIO pod")
            names = {p["name"] for p in minio_container(docs)["ports"]}
            for p in svc["spec"]["ports"]:
                if isinstance(p["targetPort"], str) and p["targetPort"] not in names:
                    problems.append(f"minio-{mode}: Service {svc['metadata']['name']} targets unknown port {p['targetPort']}")
        replicas = sts["spec"].get("replicas", 1)
        urls = [a for a in minio_container(docs)["args"] if a.startswith("http")]
        if replicas == 1:
            if urls:
                problems.append(f"minio-{mode}: one replica but peer URLs {urls}")
        else:
            want = (rf"https?://minio-\{{0\.\.\.{replicas - 1}\}}\.{re.escape(sts['spec']['serviceName'])}"
                    rf"\.{re.escape(ns)}\.svc(\.cluster\.local)?/.+")
            if len(urls) != 1 or not re.fullmatch(want, urls[0]):
                problems.append(f"minio-{mode}: {replicas} replicas need peers "
                                f"http://minio-{{0...{replicas - 1}}}.{sts['spec']['serviceName']}.{ns}.svc.cluster.local/<drive>, got {urls}")
            if replicas < 4:
                problems.append(f"minio-{mode}: distributed mode needs at least 4 drives")


def chart_workers(w: World):
    """Per rendering of the chart: where, its documents, the Deployment, its pod spec, the worker container."""
    for values, docs in w.chart.items():
        dep = one(docs, "Deployment")
        yield f"chart/{values}", docs, dep, pod_spec(dep), chart_worker(docs)


def container_ports(c) -> dict:
    return {p["name"]: p["containerPort"] for p in c["ports"]}


def selector_of(o) -> dict:
    """A Service selects by labels; PodDisruptionBudgets, Deployments and ServiceMonitors by matchLabels."""
    return o["spec"]["selector"] if o["kind"] == "Service" else o["spec"]["selector"]["matchLabels"]


def partitions(c) -> int:
    return int(env_value(c, "IMGPIPE_KAFKA_PARTITIONS"))


@check("chart selectors: Deployment, Service and PodDisruptionBudget select the worker pods, not the Job's or CronJob's")
def chart_selectors(problems, w: World):
    for where, docs, dep, _, _ in chart_workers(w):
        pod_labels = dep["spec"]["template"]["metadata"]["labels"]
        if not matches(selector_of(dep), pod_labels):
            problems.append(f"{where}: Deployment selector does not match its pods")
        job_labels = [(job_name(j), j["spec"]["template"]["metadata"]["labels"]) for j in chart_jobs(docs)]
        for o in find(docs, "Service") + find(docs, "PodDisruptionBudget"):
            if not matches(selector_of(o), pod_labels):
                problems.append(f"{where}: {o['kind']} selects no worker pod")
            for name, jl in job_labels:
                if matches(selector_of(o), jl):
                    problems.append(f"{where}: {o['kind']} also selects the pods of {name}")
        for name, jl in job_labels:
            if matches(selector_of(dep), jl):
                problems.append(f"{where}: the Deployment's selector matches the pods of {name}")


@check("chart HTTP: IMGPIPE_HTTP_LISTEN is 0.0.0.0:<container port>; probes GET /healthz, /readyz on a named port")
def chart_http(problems, w: World):
    for where, _, _, _, c in chart_workers(w):
        ports = container_ports(c)
        listen = env_value(c, "IMGPIPE_HTTP_LISTEN")
        if not listen.startswith("0.0.0.0:") or int(listen.rsplit(":", 1)[1]) not in ports.values():
            problems.append(f"{where}: IMGPIPE_HTTP_LISTEN={listen} is not 0.0.0.0:<a container port>")
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
            p = c.get(probe, {}).get("httpGet", {})
            if p.get("path") != path or p.get("port") not in ports:
                problems.append(f"{where}: {probe} is not GET {path} on a named container port")


@check("chart Service ports: targetPorts, prometheus.io/port and ServiceMonitor endpoints are the worker's ports")
def chart_service_ports(problems, w: World):
    for where, docs, _, _, c in chart_workers(w):
        ports, svc = container_ports(c), one(docs, "Service")
        svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
        for p in svc_ports.values():
            if p["targetPort"] not in ports:
                problems.append(f"{where}: Service targets port {p['targetPort']}, not a container port")
        ann = svc["metadata"].get("annotations", {})
        if ann.get("prometheus.io/scrape") == "true" and int(ann.get("prometheus.io/port", 0)) not in ports.values():
            problems.append(f"{where}: prometheus.io/port {ann.get('prometheus.io/port')} is not the metrics port")
        for sm in find(docs, "ServiceMonitor"):
            for ep in sm["spec"]["endpoints"]:
                if ep["port"] not in svc_ports:
                    problems.append(f"{where}: ServiceMonitor scrapes port {ep['port']}, the Service has {sorted(svc_ports)}")
            if not matches(selector_of(sm), svc["metadata"]["labels"]):
                problems.append(f"{where}: ServiceMonitor selects no Service")


@check("chart config: IMGPIPE_CONFIG is the ConfigMap's key, mounted at that path")
def chart_config_mount(problems, w: World):
    for where, docs, _, spec, c in chart_workers(w):
        config_path = env_value(c, "IMGPIPE_CONFIG")
        cm = one([d for d in find(docs, "ConfigMap") if d not in dashboard_configmaps(docs)], "ConfigMap")
        mount = next((m for m in c["volumeMounts"] if config_path.startswith(m["mountPath"].rstrip("/") + "/")), None)
        vol = next((v for v in spec["volumes"] if mount and v["name"] == mount["name"]), None)
        key = config_path.rsplit("/", 1)[1]
        if not vol or vol.get("configMap", {}).get("name") != cm["metadata"]["name"] or key not in cm["data"]:
            problems.append(f"{where}: IMGPIPE_CONFIG={config_path} is not the ConfigMap's {key} mounted there")


@check("chart hardening: read-only root, no privilege escalation, drop ALL, a non-root user, emptyDir at /tmp")
def chart_hardening(problems, w: World):
    for where, _, _, spec, c in chart_workers(w):
        sc, psc = c.get("securityContext", {}), spec.get("securityContext", {})
        if not sc.get("readOnlyRootFilesystem") or sc.get("allowPrivilegeEscalation") is not False \
                or "ALL" not in sc.get("capabilities", {}).get("drop", []):
            problems.append(f"{where}: container not hardened (read-only root, no privilege escalation, drop ALL)")
        if not psc.get("runAsNonRoot") or not psc.get("runAsUser"):
            problems.append(f"{where}: pod does not run as a non-root user")
        tmp = next((m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"), None)
        if not tmp or "emptyDir" not in next(v for v in spec["volumes"] if v["name"] == tmp["name"]):
            problems.append(f"{where}: no emptyDir at /tmp")


@check("chart shutdown: IMGPIPE_SHUTDOWN_GRACE_MS ends before terminationGracePeriodSeconds")
def chart_shutdown(problems, w: World):
    for where, _, _, spec, c in chart_workers(w):
        grace = int(env_value(c, "IMGPIPE_SHUTDOWN_GRACE_MS"))
        if grace >= spec["terminationGracePeriodSeconds"] * 1000:
            problems.append(f"{where}: shutdown grace {grace} ms >= terminationGracePeriodSeconds")


@check("chart replicas: KEDA scales the Deployment and owns its replicas; never more replicas than partitions")
def chart_replicas(problems, w: World):
    for where, docs, dep, _, c in chart_workers(w):
        for so in find(docs, "ScaledObject"):
            ref = so["spec"]["scaleTargetRef"]
            if ref.get("kind", "Deployment") != "Deployment" or ref["name"] != dep["metadata"]["name"]:
                problems.append(f"{where}: ScaledObject scales {ref}, not the Deployment")
            most = partitions(c)
            if so["spec"]["maxReplicaCount"] > most:
                problems.append(f"{where}: ScaledObject maxReplicaCount {so['spec']['maxReplicaCount']} > {most} partitions")
            if "replicas" in dep["spec"]:
                problems.append(f"{where}: Deployment sets replicas although KEDA owns them")
        if dep["spec"].get("replicas", 0) > partitions(c):
            problems.append(f"{where}: {dep['spec']['replicas']} replicas for {env_value(c, 'IMGPIPE_KAFKA_PARTITIONS')} partitions")


@check("chart rollout: rolling updates do not surge (maxSurge 0)")
def chart_rollout(problems, w: World):
    for where, _, dep, _, _ in chart_workers(w):
        if dep["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1) not in (0, "0%"):
            problems.append(f"{where}: rolling updates surge: the extra consumer gets no partition and never becomes ready")


@check("chart commands: the worker runs `imgpipe run`, the setup Job `imgpipe setup`, the CronJob `imgpipe reconcile --once`")
def chart_commands(problems, w: World):
    # Without --once, reconcile is a service that never exits: each run would hang
    # until activeDeadlineSeconds, and concurrencyPolicy Forbid skips the next ones.
    want = {"Job": ["setup"], "CronJob": ["reconcile", "--once"]}
    for where, docs, _, _, c in chart_workers(w):
        if c["args"][:1] != ["run"]:
            problems.append(f"{where}: the worker's args {c['args']} do not start with run")
        for job in chart_jobs(docs):
            args = container(job)["args"]
            if args[:len(want[job["kind"]])] != want[job["kind"]]:
                problems.append(f"{where}: {job_name(job)} runs {args}, not `imgpipe {' '.join(want[job['kind']])}`")


@check("chart CI values: ci/all-features-values.yaml switches on KEDA, the ServiceMonitor, the PrometheusRule, the Grafana dashboard and the reconcile CronJob")
def chart_ci_values(problems, w: World):
    for kind in ("ScaledObject", "ServiceMonitor", "PrometheusRule", "CronJob"):
        if not find(w.chart["all-features"], kind):
            problems.append(f"ci/all-features-values.yaml renders no {kind}")
    if not dashboard_configmaps(w.chart["all-features"]):
        problems.append("ci/all-features-values.yaml renders no Grafana dashboard ConfigMap")


CHART_FILES = "deploy/helm/imgpipe/files"
# The files the chart ships, and the links that keep their old paths working.
OBSERVABILITY_FILES = {"imgpipe-rules.yaml": "deploy/prometheus/imgpipe-rules.yaml",
                       "imgpipe-dashboard.json": "deploy/grafana/imgpipe.json"}


def dashboard_configmaps(docs):
    return [d for d in find(docs, "ConfigMap")
            if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == "dashboard"]


def first_difference(a, b, path="") -> str:
    """Where two parsed documents first differ, as a path (groups[1].rules[0].expr)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a or k not in b:
                return f"{path}.{k} only in {'the chart' if k in a else 'the file'}"
            if a[k] != b[k]:
                return first_difference(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items rendered, {len(b)} in the file"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {a!r} rendered, {b!r} in the file"


@check("chart dashboard and rules: one copy in the chart's files/ (deploy/grafana, deploy/prometheus link to it); the PrometheusRule's spec.groups and the dashboard ConfigMap's JSON equal it, {{ }} untouched")
def chart_observability(problems, w: World):
    root = w.root
    for name, link in OBSERVABILITY_FILES.items():
        canonical = os.path.join(root, CHART_FILES, name)
        path = os.path.join(root, link)
        if not os.path.islink(path) or os.path.isabs(os.readlink(path)):
            problems.append(f"{link}: not a relative symlink to {CHART_FILES}/{name} (a copy drifts from the chart's)")
        elif os.path.realpath(path) != os.path.realpath(canonical):
            problems.append(f"{link}: links to {os.readlink(path)}, not {CHART_FILES}/{name}")
    with open(os.path.join(root, CHART_FILES, "imgpipe-rules.yaml"), encoding="utf-8") as f:
        rules_text = f.read()
    rules = yaml.safe_load(rules_text)
    with open(os.path.join(root, CHART_FILES, "imgpipe-dashboard.json"), encoding="utf-8") as f:
        dashboard_text = f.read()
    dashboard = json.loads(dashboard_text)
    if set(rules) != {"groups"}:
        problems.append(f"{CHART_FILES}/imgpipe-rules.yaml: top-level keys {sorted(rules)}, the template expects only groups")
    # What Prometheus and Grafana must see literally: the alerts' {{ $labels.x }} / {{ $value }}
    # and the panels' {{reason}} legends (a template that ran tpl over them would change them).
    placeholders = set(re.findall(r"\{\{[^}]*\}\}", rules_text)) | set(re.findall(r"\{\{[^}]*\}\}", dashboard_text))
    if not placeholders:
        problems.append("neither the rules nor the dashboard has a {{ }} placeholder: this check lost its subject")
    rendered_spec = None
    for values, docs in w.chart.items():
        rules_objs, dashboards = find(docs, "PrometheusRule"), dashboard_configmaps(docs)
        if values == "default":
            if rules_objs or dashboards:
                problems.append("chart/default: renders a PrometheusRule or dashboard ConfigMap; both are off by default")
            continue
        if len(rules_objs) != 1 or len(dashboards) != 1:
            problems.append(f"chart/{values}: {len(rules_objs)} PrometheusRules and {len(dashboards)} dashboard ConfigMaps, want one each")
            continue
        spec = rules_objs[0]["spec"]
        if spec != {"groups": rules["groups"]}:
            problems.append(f"chart/{values}: the PrometheusRule differs from {CHART_FILES}/imgpipe-rules.yaml at "
                            f"{first_difference(spec, {'groups': rules['groups']}, 'spec')}")
        rendered_spec = spec
        data = dashboards[0].get("data", {})
        if list(data) != ["imgpipe.json"]:
            problems.append(f"chart/{values}: the dashboard ConfigMap has keys {sorted(data)}, want imgpipe.json")
            continue
        try:
            rendered = json.loads(data["imgpipe.json"])
        except ValueError as error:
            problems.append(f"chart/{values}: the dashboard ConfigMap's imgpipe.json is not JSON ({error})")
            continue
        if rendered != dashboard:
            problems.append(f"chart/{values}: the dashboard ConfigMap differs from {CHART_FILES}/imgpipe-dashboard.json at "
                            f"{first_difference(rendered, dashboard, 'dashboard')}")
        elif data["imgpipe.json"].rstrip("\n") != dashboard_text.rstrip("\n"):
            problems.append(f"chart/{values}: the dashboard ConfigMap holds {CHART_FILES}/imgpipe-dashboard.json reformatted")
        if len(data["imgpipe.json"].encode()) > 900 * 1024:
            problems.append(f"chart/{values}: the dashboard is near the 1 MiB limit of a ConfigMap")
        labels = dashboards[0]["metadata"].get("labels", {})
        if labels.get("grafana_dashboard") != "1":
            problems.append(f"chart/{values}: the dashboard ConfigMap lacks the sidecar's default label grafana_dashboard: \"1\"")
        text = yaml.safe_dump(spec) + data["imgpipe.json"]
        for p in sorted(placeholders):
            if p not in text:
                problems.append(f"chart/{values}: {p} of the files is not in the rendered objects (templated?)")
    # promtool on what the operator would hand to Prometheus: the rendered spec, not the file.
    promtool = shutil.which("promtool")
    if rendered_spec is None:
        return
    if not promtool:
        print("consistency: note: promtool not on PATH (Debian package prometheus): the rendered rules were not run through promtool check rules")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="prometheusrule-", delete=False) as f:
        yaml.safe_dump(rendered_spec, f)
    try:
        r = subprocess.run([promtool, "check", "rules", f.name], capture_output=True, text=True, timeout=60)
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        problems.append(f"promtool check rules on the rendered PrometheusRule's spec: {(r.stdout + r.stderr).strip()}")
    else:
        found = re.search(r"SUCCESS: (\d+) rules found", r.stdout)
        print(f"consistency: note: promtool check rules on the rendered PrometheusRule: {found.group(1) if found else 'all'} rules ok")


@check("versions: chart appVersion = CMake version; image users = pod users; MinIO (= local stack), Strimzi, KEDA pins agree")
def versions(problems, w: World):
    root = w.root
    with open(os.path.join(root, "deploy/helm/imgpipe/Chart.yaml"), encoding="utf-8") as f:
        chart = yaml.safe_load(f)
    with open(os.path.join(root, "CMakeLists.txt"), encoding="utf-8") as f:
        m = re.search(r"project\(\s*imgpipe\s+VERSION\s+([0-9.]+)", f.read())
    if not m or m.group(1) != str(chart["appVersion"]):
        problems.append(f"Chart appVersion {chart['appVersion']}, CMakeLists.txt project version {m and m.group(1)}")

    def dockerfile_user(rel):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            users = re.findall(r"^USER\s+([0-9]+)", f.read(), re.M)
        return int(users[-1]) if users else None

    uid = dockerfile_user("Dockerfile")
    psc = pod_spec(one(w.chart["default"], "Deployment")).get("securityContext", {})
    if psc.get("runAsUser") != uid:
        problems.append(f"chart runAsUser {psc.get('runAsUser')}, Dockerfile USER {uid}")
    sts = one(w.minio["base"], "StatefulSet", "minio")
    muid = dockerfile_user("deploy/minio/image/Dockerfile")
    if pod_spec(sts).get("securityContext", {}).get("runAsUser") != muid:
        problems.append(f"MinIO runAsUser {pod_spec(sts).get('securityContext', {}).get('runAsUser')}, its Dockerfile USER {muid}")

    with open(os.path.join(root, "deploy/minio/image/Dockerfile"), encoding="utf-8") as f:
        mv = re.search(r"^ARG MINIO_VERSION=(\S+)", f.read(), re.M)
    image = minio_container(w.minio["base"])["image"]
    up = w.script_constants("scripts/kind-up.sh")
    if not mv or image != f"imgpipe/minio:{mv.group(1)}":
        problems.append(f"MinIO image {image}, deploy/minio/image builds MINIO_VERSION {mv and mv.group(1)}")
    if mv and up.get("MINIO_VERSION") != mv.group(1):
        problems.append(f"scripts/kind-up.sh MINIO_VERSION {up.get('MINIO_VERSION')}, Dockerfile {mv.group(1)}")
    if mv and os.path.exists(os.path.join(root, "scripts/stack/stack.sh")):
        stack = w.script_constants("scripts/stack/stack.sh").get("MINIO_VERSION")
        if stack != mv.group(1):
            problems.append(f"the local stack builds MinIO {stack}, the kind image {mv.group(1)}")
    crds = os.environ.get("IMGPIPE_K8S_CRDS", os.path.join(root, "deploy", "validate", "crds"))
    have = set(os.listdir(crds)) if os.path.isdir(crds) else set()
    if f"strimzi-{up.get('STRIMZI_VERSION')}" not in have:
        problems.append(f"scripts/kind-up.sh installs Strimzi {up.get('STRIMZI_VERSION')}, schemas are {sorted(have)}")
    if f"keda-v{up.get('KEDA_VERSION')}" not in have:
        problems.append(f"scripts/kind-up.sh installs KEDA {up.get('KEDA_VERSION')}, schemas are {sorted(have)}")
    for key, want in (("KAFKA_NAMESPACE", w.kafka_ns), ("KAFKA_CLUSTER", w.kafka_name),
                      ("MINIO_NAMESPACE", sts["metadata"]["namespace"])):
        if up.get(key) != want:
            problems.append(f"scripts/kind-up.sh {key}={up.get(key)}, the manifests use {want}")
    with open(os.path.join(root, "deploy/kind/kind-config.yaml"), encoding="utf-8") as f:
        kind_name = yaml.safe_load(f).get("name")
    if up.get("CLUSTER_NAME") != kind_name:
        problems.append(f"scripts/kind-up.sh CLUSTER_NAME={up.get('CLUSTER_NAME')}, kind-config name {kind_name}")
    image_repo = chart_worker(w.chart["default"])["image"].rsplit(":", 1)[0]
    if up.get("IMAGE_REPOSITORY") != image_repo:
        problems.append(f"scripts/kind-up.sh builds {up.get('IMAGE_REPOSITORY')}, the chart runs {image_repo}")


@check("pod security: MinIO, worker, setup Job and reconcile CronJob meet the 'restricted' standard that namespace imgpipe enforces")
def pod_security(problems, w: World):
    with open(os.path.join(w.root, "deploy/kind/namespaces.yaml"), encoding="utf-8") as f:
        namespaces = {d["metadata"]["name"]: d for d in yaml.safe_load_all(f) if d}
    workloads = [(f"minio-{m}", d) for m, docs in w.minio.items() for d in find(docs, "StatefulSet")]
    workloads += [(f"chart/{v}", d) for v, docs in w.chart.items() for d in find(docs, "Deployment") + chart_jobs(docs)]
    for where, wl in workloads:
        ns = wl["metadata"].get("namespace", "imgpipe")
        level = namespaces.get(ns, {}).get("metadata", {}).get("labels", {}).get("pod-security.kubernetes.io/enforce")
        if level != "restricted":
            problems.append(f"{where}: namespace {ns} does not enforce the restricted Pod Security Standard")
        spec = pod_spec(wl)
        psc = spec.get("securityContext", {})
        for c in spec.get("initContainers", []) + spec["containers"]:
            sc = c.get("securityContext", {})
            name = f"{where} {wl['kind']} container {c['name']}"
            if not (sc.get("runAsNonRoot", psc.get("runAsNonRoot"))):
                problems.append(f"{name}: runAsNonRoot not set")
            if sc.get("runAsUser", psc.get("runAsUser")) == 0:
                problems.append(f"{name}: runAsUser 0")
            if sc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{name}: allowPrivilegeEscalation not false")
            if sc.get("capabilities", {}).get("drop") != ["ALL"] or sc.get("capabilities", {}).get("add"):
                problems.append(f"{name}: capabilities not exactly drop [ALL]")
            seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
            if seccomp not in ("RuntimeDefault", "Localhost"):
                problems.append(f"{name}: seccompProfile {seccomp}, want RuntimeDefault")
        for v in spec.get("volumes", []):
            kinds = set(v) - {"name"}
            if not kinds <= {"configMap", "emptyDir", "persistentVolumeClaim", "secret", "projected",
                             "downwardAPI", "ephemeral", "csi"}:
                problems.append(f"{where}: volume {v['name']} of type {sorted(kinds)} is not allowed by restricted")


def leaf_paths(node, prefix=""):
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from leaf_paths(v, f"{prefix}.{k}" if prefix else k)
    else:
        yield prefix


def schema_has(schema, path):
    node = schema
    for part in path.split("."):
        props = node.get("properties", {})
        if part in props:
            node = props[part]
        elif isinstance(node.get("additionalProperties"), dict) or node.get("type") == "object" and "properties" not in node:
            return True  # free-form map (annotations, securityContext ...)
        else:
            return False
    return True


@check("chart docs: every value is in README.md's table and in values.schema.json")
def chart_docs(problems, w: World):
    base = os.path.join(w.root, "deploy/helm/imgpipe")
    with open(os.path.join(base, "values.yaml"), encoding="utf-8") as f:
        values = yaml.safe_load(f)
    with open(os.path.join(base, "values.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    with open(os.path.join(base, "README.md"), encoding="utf-8") as f:
        documented = set(re.findall(r"^\|\s*`([^`]+)`\s*\|", f.read(), re.M))
    paths = list(leaf_paths(values))
    for path in paths:
        if path not in documented and not any(path.startswith(d + ".") for d in documented):
            problems.append(f"value {path} is not in README.md's table")
        if not schema_has(schema, path):
            problems.append(f"value {path} is not in values.schema.json")
    for d in sorted(documented):
        if not any(p == d or p.startswith(d + ".") for p in paths):
            problems.append(f"README.md documents {d}, which values.yaml does not have")


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    w = World(argv[0], argv[1])
    for fn in (bootstrap, topics, replication, node_pools, kind_ports, kind_version, secrets, kafka_users,
               s3_endpoint, notify_target, minio_layout, chart_selectors, chart_http, chart_service_ports,
               chart_config_mount, chart_hardening, chart_shutdown, chart_replicas, chart_rollout,
               chart_commands, chart_ci_values, chart_observability, pod_security, versions, chart_docs):
        fn(w)
    failed = 0
    for name, problems in RESULTS:
        if problems:
            failed += 1
            print(f"consistency: FAIL {name}")
            for p in problems:
                print(f"    - {p}")
        else:
            print(f"consistency: ok   {name}")
    print(f"consistency: {len(RESULTS) - failed} of {len(RESULTS)} cross-file checks ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
