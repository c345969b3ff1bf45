#!/usr/bin/env python3
"""Turns Kubernetes OpenAPI definitions into strict JSON schemas for kubeconform.

Two sources, one output layout (the one scripts/validate-k8s.sh hands to
kubeconform as `-schema-location DIR/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json`):

  k8s SWAGGER OUTDIR             every kind of the Kubernetes API (api/openapi-spec/swagger.json
                                 of the k8s.io/kubernetes Go module)
  crd SWAGGER OUTDIR CRD.yaml... every served version of each CustomResourceDefinition
                                 (Strimzi, KEDA, Prometheus Operator)

"Strict" means what the API server means by unknown fields being errors: every
object schema that lists its properties gets `additionalProperties: false`, unless
the API marks it `x-kubernetes-preserve-unknown-fields` (free-form maps such as
Kafka's `config`). Other conversions:
  - int-or-string (Swagger `format: int-or-string`, CRD `x-kubernetes-int-or-string`)
    accepts an integer or a string;
  - resource.Quantity accepts a string or a number (`cpu: 1`, `memory: 512Mi`);
  - `nullable: true` (CRDs) accepts null; nothing else does, so a template that
    renders `resources: null` is reported;
  - a CRD's `metadata` gets the full ObjectMeta schema of the Kubernetes API
    instead of the bare `type: object` CRDs carry.
Rules written as CEL (`x-kubernetes-validations`) are not checked.
"""
from __future__ import annotations

import copy
import json
import os
import sys

import yaml

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
REF_PREFIX = "#/definitions/"
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# Swagger keywords that mean nothing to a JSON-schema validator, or mislead it.
DROP_KEYS = {"x-kubernetes-group-version-kind", "x-kubernetes-list-map-keys",
             "x-kubernetes-list-type", "x-kubernetes-map-type",
             "x-kubernetes-patch-merge-key", "x-kubernetes-patch-strategy",
             "x-kubernetes-unions", "x-kubernetes-validations",
             "x-kubernetes-embedded-resource", "x-kubernetes-preserve-unknown-fields",
             "x-kubernetes-int-or-string", "nullable", "externalDocs"}


def strictify(node, in_crd: bool):
    """Returns a converted copy of one (sub)schema, recursively."""
    if isinstance(node, list):
        return [strictify(n, in_crd) for n in node]
    if not isinstance(node, dict):
        return node
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    out = {}
    for key, value in node.items():
        if key in DROP_KEYS:
            continue
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: strictify(v, in_crd) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not"):
            out[key] = strictify(value, in_crd) if isinstance(value, (dict, list)) else value
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [strictify(v, in_crd) for v in value]
        else:
            out[key] = value
    if node.get("format") == "int-or-string" or node.get("x-kubernetes-int-or-string") is True:
        out["type"] = ["integer", "string"]
        out.pop("format", None)
    if node.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = types + ["null"]
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    if preserve:
        out.pop("additionalProperties", None)
    return out


def refs_in(node, found: set):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            found.add(ref[len(REF_PREFIX):])
        for v in node.values():
            refs_in(v, found)
    elif isinstance(node, list):
        for v in node:
            refs_in(v, found)


def closure(definitions: dict, roots: set) -> dict:
    """The definitions reachable from roots, by $ref."""
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found = set()
        refs_in(definitions[name], found)
        todo.extend(found - seen)
    return {name: definitions[name] for name in sorted(seen)}


def load_k8s_definitions(swagger_path: str) -> dict:
    with open(swagger_path, encoding="utf-8") as f:
        swagger = json.load(f)
    definitions = {name: strictify(d, False) for name, d in swagger["definitions"].items()}
    # Quantity: the API accepts "512Mi" and 1 alike.
    definitions[QUANTITY] = {"type": ["string", "number"],
                             "description": swagger["definitions"][QUANTITY].get("description", "")}
    return swagger, definitions


def schema_path(outdir: str, api_version: str, kind: str) -> str:
    # mirrors kubeconform's template variables: {{ .Group }} is the part before
    # the slash ("v1" for the core group), {{ .ResourceAPIVersion }} the part after.
    parts = api_version.split("/")
    return os.path.join(outdir, parts[0], f"{kind.lower()}_{parts[-1]}.json")


def write_schema(path: str, schema: dict):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(schema, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def pin_type_meta(schema: dict, api_version: str, kind: str):
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"type": "string", "enum": [api_version]}
    props["kind"] = {"type": "string", "enum": [kind]}
    required = schema.setdefault("required", [])
    for key in ("apiVersion", "kind"):
        if key not in required:
            required.append(key)


def cmd_k8s(swagger_path: str, outdir: str) -> int:
    swagger, definitions = load_k8s_definitions(swagger_path)
    count = 0
    for name, raw in swagger["definitions"].items():
        for gvk in raw.get("x-kubernetes-group-version-kind", []):
            group, version, kind = gvk["group"], gvk["version"], gvk["kind"]
            if kind.endswith("List") or kind in ("WatchEvent", "DeleteOptions", "Status",
                                                   "APIVersions", "APIGroup", "APIGroupList",
                                                   "APIResourceList"):
                continue
            api_version = f"{group}/{version}" if group else version
            root = copy.deepcopy(definitions[name])
            pin_type_meta(root, api_version, kind)
            found = set()
            refs_in(root, found)
            schema = {"$schema": SCHEMA_DIALECT, **root,
                      "definitions": closure(definitions, found)}
            write_schema(schema_path(outdir, api_version, kind), schema)
            count += 1
    print(f"openapi2jsonschema: {count} Kubernetes kinds -> {outdir}")
    return 0 if count > 100 else 1


def cmd_crd(swagger_path: str, outdir: str, crd_files: list[str]) -> int:
    _, definitions = load_k8s_definitions(swagger_path)
    meta_defs = closure(definitions, {OBJECT_META})
    count = 0
    for path in crd_files:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        for crd in docs:
            if crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                if not version.get("served", True):
                    continue
                api_version = f"{group}/{version['name']}"
                root = strictify(version["schema"]["openAPIV3Schema"], True)
                root.setdefault("properties", {})["metadata"] = {"$ref": REF_PREFIX + OBJECT_META}
                root["additionalProperties"] = False
                pin_type_meta(root, api_version, kind)
                schema = {"$schema": SCHEMA_DIALECT, **root, "definitions": meta_defs}
                write_schema(schema_path(outdir, api_version, kind), schema)
                count += 1
    print(f"openapi2jsonschema: {count} custom resource versions -> {outdir}")
    return 0 if count else 1


def main(argv: list[str]) -> int:
    if len(argv) >= 3 and argv[0] == "k8s":
        return cmd_k8s(argv[1], argv[2])
    if len(argv) >= 4 and argv[0] == "crd":
        return cmd_crd(argv[1], argv[2], argv[3:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
