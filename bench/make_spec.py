"""Write synthetic OpenAPI 3.1 specs in the style of the Azure AI Model Inference embeddings API.

    python bench/make_spec.py 1000 bench/.out/specs/synthetic-1000.yaml

Deterministic: the same schema count gives the same bytes (no randomness, no dates). The
spec has one operation per five component schemas. Operation k owns five schemas:

    Service<k>.EmbeddingsOptions  request body; `encoding_format` refers to the open enum,
                                  `additionalProperties: true` (extra parameters)
    Service<k>.EncodingFormat     an open enum (anyOf: [string, string enum]), as Azure writes it
    Service<k>.EmbeddingItem      `embedding` is a oneOf of number[] and a base64 string
    Service<k>.EmbeddingsResult   the 200 answer (with an inline `usage` object)
    Service<k>.Error              the recursive error model (`details: Error[]`, `innererror`)

and every operation takes the `api-version` query parameter and the `extra-parameters`
header, answers errors with `{error: Service<k>.Error}`, and carries a documented request
example (validated against its schema, like the real spec's samples).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

_WORDS = ("vector", "prompt", "token", "model", "index", "batch", "document", "query",
          "image", "tenant", "region", "shard", "cache", "score", "window", "format")


def _text(k: int, what: str) -> str:
    """A description of realistic length that differs from one operation to the next."""
    a, b, c = (_WORDS[(k * 7 + i * 3) % len(_WORDS)] for i in range(3))
    return (f"{what} for the {a} {b} service number {k}. Measures the relatedness of {c} "
            f"inputs; returns a 422 error if the model doesn't support the value or parameter.")


def _group(k: int) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(path, path item, {schema name: schema}) for operation k."""
    p = f"Service{k:04d}"
    ref = f"#/components/schemas/{p}"
    schemas: dict[str, Any] = {
        f"{p}.EmbeddingsOptions": {
            "type": "object",
            "description": _text(k, "The configuration information for an embeddings request"),
            "required": ["input"],
            "properties": {
                "input": {"type": "array", "items": {"type": "string"},
                          "description": "Input text to embed, encoded as a string array."},
                "dimensions": {"type": ["integer", "null"], "format": "int32",
                               "description": "Optional. The number of dimensions the "
                                              "resulting output embeddings should have."},
                "encoding_format": {"$ref": f"{ref}.EncodingFormat",
                                    "description": "Optional. The desired format for the "
                                                   "returned embeddings."},
                "input_type": {"type": "string",
                               "description": "Optional. The type of the input."},
                "model": {"type": "string", "description": "ID of the specific AI model to "
                                                           "use."},
            },
            "additionalProperties": True,
        },
        f"{p}.EncodingFormat": {
            "description": _text(k, "Specifies the types of embeddings to generate"),
            "anyOf": [{"type": "string"},
                      {"type": "string",
                       "enum": ["base64", "binary", "float", "int8", "ubinary", "uint8"]}],
            "x-ms-enum": {"name": f"{p}.EncodingFormat", "modelAsString": True, "values": [
                {"value": "base64", "description": "Base64 string."},
                {"value": "float", "description": "Full precision."}]},
        },
        f"{p}.EmbeddingItem": {
            "type": "object",
            "description": _text(k, "Representation of a single embeddings item"),
            "required": ["embedding", "index", "object"],
            "properties": {
                "index": {"type": "integer", "format": "int32",
                          "description": "Index of the prompt to which the item corresponds."},
                "object": {"type": "string", "enum": ["embedding"],
                           "description": "Will always be `embedding`."},
                "embedding": {
                    "description": "The embedding vector, or a base64 encoded string of it.",
                    "oneOf": [{"type": "array", "items": {"type": "number", "format": "float"}},
                              {"type": "string"}],
                },
            },
        },
        f"{p}.EmbeddingsResult": {
            "type": "object",
            "description": _text(k, "Representation of the response data"),
            "required": ["id", "data", "object", "model", "usage"],
            "properties": {
                "id": {"type": "string", "description": "Unique identifier for the result."},
                "data": {"type": "array", "items": {"$ref": f"{ref}.EmbeddingItem"},
                         "description": "Embedding values for the prompts submitted."},
                "object": {"type": "string", "enum": ["list"],
                           "description": "Will always be `list`."},
                "model": {"type": "string", "description": "The model ID used."},
                "usage": {
                    "type": "object",
                    "description": "Usage counts for tokens input using the embeddings API.",
                    "required": ["prompt_tokens", "total_tokens"],
                    "properties": {
                        "prompt_tokens": {"type": "integer", "format": "int32"},
                        "total_tokens": {"type": "integer", "format": "int32"},
                    },
                },
            },
        },
        f"{p}.Error": {
            "type": "object",
            "description": _text(k, "The error object"),
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "A server-defined error code."},
                "message": {"type": "string", "description": "A human-readable message."},
                "target": {"type": "string", "description": "The target of the error."},
                "details": {"type": "array", "items": {"$ref": f"{ref}.Error"},
                            "description": "Details about specific errors."},
                "innererror": {"$ref": f"{ref}.Error",
                               "description": "More specific information about the error."},
            },
        },
    }
    operation = {
        "operationId": f"GetEmbeddings{k:04d}",
        "summary": f"Get embeddings {k}",
        "description": _text(k, "Return the embedding vectors"),
        "parameters": [{"$ref": "#/components/parameters/ApiVersion"},
                       {"$ref": "#/components/parameters/ExtraParametersHeader"}],
        "requestBody": {
            "required": True,
            "description": "The configuration information for an embeddings request.",
            "content": {"application/json": {
                "schema": {"$ref": f"{ref}.EmbeddingsOptions"},
                "examples": {"minimum_set": {"summary": "minimum set", "value": {
                    "input": [f"This is a very good text {k}"], "dimensions": 1024,
                    "encoding_format": "float"}}},
            }},
        },
        "responses": {
            "200": {"description": "The request has succeeded.", "content": {
                "application/json": {"schema": {"$ref": f"{ref}.EmbeddingsResult"}}}},
            "default": {"description": "An unexpected error response.", "content": {
                "application/json": {"schema": {
                    "type": "object", "required": ["error"],
                    "properties": {"error": {"$ref": f"{ref}.Error"}}}}}},
        },
    }
    return f"/service{k:04d}/embeddings", {"post": operation}, schemas


def build(schemas: int) -> dict[str, Any]:
    if schemas < 5 or schemas % 5:
        raise ValueError("the schema count must be a positive multiple of 5")
    paths: dict[str, Any] = {}
    components: dict[str, Any] = {}
    for k in range(schemas // 5):
        path, item, group = _group(k)
        paths[path] = item
        components.update(group)
    return {
        "openapi": "3.1.0",
        "info": {"title": "AI Model Inference", "version": f"2024-05-01-synthetic-{schemas}",
                 "description": f"Synthetic benchmark spec: {schemas} schemas, "
                                f"{schemas // 5} operations.",
                 "x-codegen-package": "bench"},
        "paths": paths,
        "security": [{"api-key": []}],
        "components": {
            "securitySchemes": {"api-key": {"type": "apiKey", "in": "header",
                                            "name": "api-key"}},
            "parameters": {
                "ApiVersion": {"name": "api-version", "in": "query", "required": True,
                               "description": "The API version to use for this operation.",
                               "schema": {"type": "string", "minLength": 1}},
                "ExtraParametersHeader": {
                    "name": "extra-parameters", "in": "header", "required": False,
                    "description": "Controls what happens if extra parameters, undefined by "
                                   "the REST API, are passed in the JSON request payload.",
                    "schema": {"anyOf": [{"type": "string"},
                                         {"type": "string",
                                          "enum": ["error", "drop", "pass-through"]}]}},
            },
            "schemas": components,
        },
    }


def write(schemas: int, path: Path) -> Path:
    text = yaml.safe_dump(build(schemas), sort_keys=False, width=100, allow_unicode=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text("utf-8") != text:
        path.write_text(text, encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    write(int(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
