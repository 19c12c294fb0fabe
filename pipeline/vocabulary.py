"""Vocabulary that varies between towns, read from the TOML files in vocab/.

Supporting a new town's wording means adding a line to one of those files, not code.
"""

import tomllib
from functools import cache
from importlib.resources import files
from typing import Any

VOCAB_DIR = "pipeline/vocab"


@cache
def load_vocabulary(name: str) -> dict[str, Any]:
    """Read vocab/<name>.toml: load_vocabulary("titles")["basic"] -> ["基本履职事项清单"]."""
    text = files("pipeline").joinpath("vocab", f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
