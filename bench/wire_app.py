"""The app that tests/server/test_wire.py and `make bench` serve in a real server process:
the demo service, plus inputs that make it hang ("hang") or answer 2,048 x 3,072 floats
("big"). Its access log and a line per cancelled call go to stderr, which the tests read."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

import model_inference_2024_05_01_preview as package
from model_inference_2024_05_01_preview import RequestContext, create_app, models

from examples.demo_service import DemoService

KEY = "bench-key"  # the key bench/wire.py's requests carry
#: What the hanging call prints when it is cancelled, with the request id.
CANCELLED = "SERVICE-CANCELLED"
BIG_ROWS, BIG_DIMENSIONS = 2048, 3072


class WireService(DemoService):
    def __init__(self) -> None:
        super().__init__()
        row = [((i * 7919) % 2000) / 1000 - 1 for i in range(BIG_DIMENSIONS)]
        # One row object shared by every item: the answer is big, building it is not.
        self.big = models.EmbeddingsResult(
            id="big", object="list", model="wire",
            data=[models.EmbeddingItem(index=i, object="embedding", embedding=row)
                  for i in range(BIG_ROWS)],
            usage=models.EmbeddingsUsage(prompt_tokens=BIG_ROWS, total_tokens=BIG_ROWS))

    async def get_embeddings(self, body: Any, context: RequestContext) -> Any:
        first = body.input[0] if body.input else ""
        if first == "hang":
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                print(f"{CANCELLED} {context.request_id}", file=sys.stderr, flush=True)
                raise
        if first == "big":
            return self.big
        return await super().get_embeddings(body, context)


def app() -> Any:
    """The factory the server calls (timeouts from WIRE_REQUEST_TIMEOUT, WIRE_BODY_TIMEOUT)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logger = logging.getLogger(package.__name__)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return create_app(
        WireService(), api_keys=[KEY],
        request_timeout=float(os.environ.get("WIRE_REQUEST_TIMEOUT", "3")),
        body_timeout=float(os.environ.get("WIRE_BODY_TIMEOUT", "2")))
