"""Spec-driven code generator for the Azure AI Model Inference embeddings API.

Stages, one module each, data flowing one way:
load -> validate -> lower (to ir) -> render -> write; diff compares two lowered APIs.
"""

__version__ = "0.1.0"
TOOL_NAME = "embeddings-codegen"
