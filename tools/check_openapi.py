"""Checks the upload endpoint's contract, schemas/openapi.yaml:

- it is a valid OpenAPI 3.1 document (openapi-spec-validator);
- every example in it conforms to the schema it illustrates (JSON Schema 2020-12);
- the `label` pattern refuses every control and format character of the BMP (Cc, Cf);
- the image ids the code makes (--image-id, from EventIdentity in the Swift test) match the
  `id` pattern;
- Sources/Ingest/OpenAPIDocument.swift (served as GET /openapi.json) is what
  scripts/generate-openapi makes of the YAML now.

    python tools/check_openapi.py [--image-id ID ...]

Exit 0 when all hold; otherwise 1, with one line per problem.
"""
import argparse
import re
import sys
import unicodedata
from pathlib import Path

import jsonschema
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

sys.path.insert(0, str(Path(__file__).resolve().parent))
import openapi_document  # noqa: E402


def resolve(document: dict, node):
    """`node` with every local $ref replaced by its target (the contract has no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target = document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            return resolve(document, target)
        return {key: resolve(document, value) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(document, item) for item in node]
    return node


def example_problems(document: dict) -> list[str]:
    """Examples of parameters, media types and schemas that their schema refuses."""
    problems = []

    def check(where: str, schema: dict, value) -> None:
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        for error in validator.iter_errors(value):
            problems.append(f"{where}: example {value!r} does not conform: {error.message}")

    def walk(where: str, node) -> None:
        if isinstance(node, dict):
            schema = node.get("schema")
            if isinstance(schema, dict) and schema.get("format") != "binary":
                if "example" in node:
                    check(where, schema, node["example"])
                for name, example in (node.get("examples") or {}).items():
                    if "value" in example:
                        check(f"{where}/examples/{name}", schema, example["value"])
            if "properties" in node and "example" in node and "type" in node:
                check(where, node, node["example"])
            for key, value in node.items():
                walk(f"{where}/{key}", value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(f"{where}/{index}", value)

    walk("#", resolve(document, document))
    return problems


def label_pattern_problems(document: dict) -> list[str]:
    upload = document["paths"]["/v1/images"]["post"]
    label = next(parameter for parameter in upload["parameters"] if parameter["name"] == "label")
    pattern = re.compile(label["schema"]["pattern"])
    problems = []
    for accepted in ["", "Apple Braeburn", "Pêche de vigne", "りんご", "Apple (red) & pear", "🍓"]:
        if not pattern.search(accepted):
            problems.append(f"the label pattern refuses the ordinary label {accepted!r}")
    refused = [chr(cp) for cp in range(0x10000) if unicodedata.category(chr(cp)) in ("Cc", "Cf", "Zl", "Zp", "Co")] + ["/", "\\"]
    allowed = [f"U+{ord(c):04X}" for c in refused if pattern.search(f"a{c}b")]
    if allowed:
        problems.append(f"the label pattern lets control/format characters through: {', '.join(allowed)}")
    return problems


def image_id_problems(document: dict, image_ids: list[str]) -> list[str]:
    parameter = document["paths"]["/v1/images/{id}"]["get"]["parameters"][0]
    patterns = {"path parameter id": parameter["schema"]["pattern"],
                "ImageAnswer.image_id": document["components"]["schemas"]["ImageAnswer"]["properties"]["image_id"]["pattern"]}
    return [f"the image id {image_id!r} the code makes does not match {where} {pattern!r}"
            for image_id in image_ids for where, pattern in patterns.items() if not re.search(pattern, image_id)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--image-id", action="append", default=[], help="an id EventIdentity made, to match the id pattern")
    arguments = parser.parse_args()

    document = openapi_document.load()
    problems = []
    try:
        validate(document)
    except OpenAPIValidationError as error:
        problems.append(f"{openapi_document.YAML_PATH}: not valid OpenAPI 3.1: {error}")
    if document.get("openapi", "").split(".")[:2] != ["3", "1"]:
        problems.append(f"{openapi_document.YAML_PATH}: openapi is {document.get('openapi')!r}, not 3.1.x")
    problems += example_problems(document)
    problems += label_pattern_problems(document)
    problems += image_id_problems(document, arguments.image_id)

    swift = openapi_document.SWIFT_PATH
    expected = openapi_document.render(document)
    if not swift.exists():
        problems.append(f"{swift} is missing: run scripts/generate-openapi")
    elif swift.read_text(encoding="utf-8") != expected:
        problems.append(f"{swift} is stale (schemas/openapi.yaml changed since it was generated): run scripts/generate-openapi")

    for problem in problems:
        print(f"check_openapi: {problem}")
    if problems:
        return 1
    operations = sum(1 for item in document["paths"].values() for method in item if method in ("get", "post", "put", "delete", "patch"))
    print(f"check_openapi: ok: OpenAPI {document['openapi']}, {operations} operations, examples conform, generated Swift up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
