import os
import textwrap
from pathlib import Path

import pytest

from bench.plugins import PLUGINS_ENV

ROOT = Path(__file__).resolve().parents[1]
TEST_PLUGIN = "bench.models.testing"

# Workers inherit the environment: the misbehaving test models are registered there too.
os.environ[PLUGINS_ENV] = TEST_PLUGIN


@pytest.fixture
def write_suite(tmp_path):
    """Write a suite file from TOML text and return its path."""

    def write(text: str, name: str = "suite.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write
