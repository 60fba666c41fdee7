"""A small reader of R's .rda/.RData files (XDR serialisation, versions 2 and 3): data frames of numbers and factors.

Enough for the data files of R packages such as Debian's r-cran-mlbench (UCI letter,
satimage, shuttle, dna), without R or a reader package. Anything else (closures,
environments, byte code) is refused with a DataError.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
from pathlib import Path

import lazy_loader
import numpy as np

from bench.datasets.core import DataError

pd = lazy_loader.load("pandas")  # imported when a file is read, not to list the registry

NA_INT = -(2**31)
_PAIRLISTS = {2, 5, 6, 17}  # LISTSXP, PROMSXP, LANGSXP, DOTSXP: attribute, tag, car, cdr
_VECTORS = {10: ">i4", 13: ">i4", 14: ">f8"}  # LGLSXP, INTSXP, REALSXP


class _Reader:
    def __init__(self, data: bytes, where: str):
        self.data, self.pos, self.where, self.refs = data, 0, where, []

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DataError(f"{self.where}: truncated R data")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def int(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def length(self) -> int:
        n = self.int()
        if n == -1:
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def item(self):
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind == 254:  # NILVALUE_SXP
            return None
        if kind == 255:  # REFSXP
            index = flags >> 8 or self.int()
            return self.refs[index - 1]
        if kind in (242, 241, 253):  # empty, base, global environment
            return None
        if kind == 1:  # SYMSXP
            name = self.item()
            self.refs.append(name)
            return name
        if kind == 9:  # CHARSXP
            n = self.int()
            return None if n == -1 else self.take(n).decode("utf-8", errors="replace")
        if kind in _PAIRLISTS:
            attrs = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            car = self.item()
            cdr = self.item()
            out = [(tag, car)] + (cdr if isinstance(cdr, list) else [])
            del attrs
            return out
        if kind in _VECTORS:
            n = self.length()
            value = np.frombuffer(self.take(n * np.dtype(_VECTORS[kind]).itemsize), dtype=_VECTORS[kind])
            value = value.astype(np.float64 if kind == 14 else np.int64)
        elif kind == 16:  # STRSXP
            value = [self.item() for _ in range(self.length())]
        elif kind in (19, 20):  # VECSXP, EXPRSXP
            value = [self.item() for _ in range(self.length())]
        elif kind == 238:  # ALTREP_SXP: class info, state, attributes
            info, state, _attrs = self.item(), self.item(), self.item()
            return _altrep(info, state, self.where)
        else:
            raise DataError(f"{self.where}: R object type {kind} is not supported by this reader")
        attrs = dict(self.item()) if has_attr else {}
        return _RObject(value, attrs) if attrs else value


class _RObject:
    def __init__(self, value, attrs: dict):
        self.value, self.attrs = value, attrs


def _altrep(info, state, where: str):
    name = info[0][1] if isinstance(info, list) and info else None
    if name == "compact_intseq":
        n, start, step = (int(v) for v in np.asarray(state)[:3])
        return np.arange(start, start + n * step, step, dtype=np.int64)
    if name == "compact_realseq":
        n, start, step = np.asarray(state)[:3]
        return np.arange(start, start + int(n) * step, step, dtype=np.float64)
    raise DataError(f"{where}: compact R vector {name!r} is not supported by this reader")


def _column(obj) -> pd.Series:
    if isinstance(obj, _RObject):
        cls = obj.attrs.get("class")
        cls = [cls] if isinstance(cls, str) else (cls or [])
        if "factor" in cls:
            levels = np.asarray(obj.attrs["levels"].value if isinstance(obj.attrs["levels"], _RObject) else obj.attrs["levels"], dtype=object)
            codes = np.asarray(obj.value)
            values = np.where(codes == NA_INT, None, levels[np.clip(codes - 1, 0, len(levels) - 1)])
            return pd.Series(values, dtype=object)
        obj = obj.value
    if isinstance(obj, np.ndarray):
        if obj.dtype == np.int64:
            return pd.Series(np.where(obj == NA_INT, np.nan, obj) if (obj == NA_INT).any() else obj)
        return pd.Series(obj)
    if isinstance(obj, list):
        return pd.Series(obj, dtype=object)
    raise DataError(f"a data frame column of type {type(obj).__name__} is not supported")


def read_rda(path: str | Path) -> dict[str, pd.DataFrame]:
    """The data frames saved in an .rda/.RData file, by name."""
    path = Path(path)
    raw = path.read_bytes()
    try:
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        elif raw[:3] == b"BZh":
            raw = bz2.decompress(raw)
        elif raw[:6] == b"\xfd7zXZ\x00":
            raw = lzma.decompress(raw)
    except (OSError, EOFError, lzma.LZMAError, ValueError) as exc:
        raise DataError(f"{path}: truncated or corrupt ({exc})") from None
    if raw[:5] not in (b"RDX2\n", b"RDX3\n") or raw[5:7] != b"X\n":
        raise DataError(f"{path}: not an R data file in XDR format")
    r = _Reader(raw[7:], str(path))
    version = r.int()
    r.int(), r.int()  # writer's R version, oldest R that reads it
    if version == 3:
        r.take(r.int())  # native encoding
    top = r.item()
    frames = {}
    for name, obj in top or []:
        if not isinstance(obj, _RObject) or "names" not in obj.attrs:
            continue
        names = obj.attrs["names"]
        names = names.value if isinstance(names, _RObject) else names
        frames[name] = pd.DataFrame({col: _column(v) for col, v in zip(names, obj.value, strict=True)})
    return frames
