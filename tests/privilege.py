"""Tests that need file permissions to hold, even when they run as root."""

from __future__ import annotations

import os
import shutil

import pytest


def without_privilege() -> list[str]:
    """A command prefix under which file permissions hold (root reads and writes anywhere unless
    it drops its capabilities); skips the test where that cannot be done."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv"):
        return ["setpriv", "--bounding-set=-all", "--inh-caps=-all"]
    pytest.skip("running as root without setpriv: permissions cannot be denied")
