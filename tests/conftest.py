import os
import tempfile
import textwrap
from pathlib import Path

import pytest

from bench.plugins import PLUGINS_ENV

ROOT = Path(__file__).resolve().parents[1]
TEST_PLUGIN = "bench.models.testing"

# Workers inherit the environment: the misbehaving test models are registered there too.
os.environ[PLUGINS_ENV] = TEST_PLUGIN

# Every test session starts from an empty data cache, as on a fresh machine: a test that
# needs a downloaded set makes a small stand-in itself (or skips, naming the package).
# Workers inherit it; a developer's filled ~/.cache/bench-data is never read.
os.environ["BENCH_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-test-cache-")


@pytest.fixture
def write_suite(tmp_path):
    """Write a suite file from TOML text and return its path."""

    def write(text: str, name: str = "suite.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write
