"""bench: classical machine learning vs deep learning, measured under identical conditions."""

__version__ = "0.1.0"
