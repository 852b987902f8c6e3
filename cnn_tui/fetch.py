"""Downloading dataset files into the cache, safely and with one-line reasons on failure.

Provides :func:`download_url`, the default downloader (urllib, a 5 s timeout per request,
throttled progress lines), and :func:`fetch`, which tries each mirror in turn for one
``.gz`` file, checks its md5, and only then renames it into place: it is written to a temp
file beside its final name, so an interrupted or corrupt download never leaves a file that
later looks like a good cache. When every mirror fails, :class:`DownloadFailed` carries a
short reason ("no network: ...", "HTTP 404 ...") for the caller to fall back on; a file
whose md5 is wrong is a :class:`~cnn_tui.idx.DataError` instead, as retrying will not help.
The downloader is a parameter so that tests, and callers, can supply their own.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from http.client import HTTPException
from pathlib import Path
from urllib.parse import urlsplit

from cnn_tui.idx import DataError

Progress = Callable[[str], None]
# download(url, dest, progress) writes the body of url to dest; raises OSError on failure.
Downloader = Callable[[str, Path, "Progress | None"], None]

TIMEOUT_S = 5.0


class DownloadFailed(Exception):
    """No mirror served a file; ``str(err)`` is why, one short reason per distinct failure."""


def download_url(url: str, dest: Path, progress: Progress | None = None) -> None:
    """Write ``url`` to ``dest`` (5 s timeout per request), reporting percent twice a second."""
    name = url.rsplit("/", 1)[-1]
    request = urllib.request.Request(url, headers={"User-Agent": "cnn-tui"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response, dest.open("wb") as out:
        total, done, last = int(response.headers.get("Content-Length") or 0), 0, -1.0
        while chunk := response.read(1 << 16):
            out.write(chunk)
            done += len(chunk)
            now = time.monotonic()
            if progress and (last < 0 or now - last >= 0.5 or done == total):
                last = now
                size = f"{done * 100 // total}% of {total / 1e6:.1f} MB" if total else ""
                progress(f"downloading {name}: {size or f'{done / 1e6:.1f} MB'}")
        if total and done != total:
            raise OSError(f"connection closed after {done} of {total} bytes")


def fetch(
    mirrors: Sequence[str],
    folder: Path,
    gz: str,
    md5: str,
    progress: Progress | None,
    get: Downloader,
) -> str:
    """Download ``gz`` from the first mirror that answers, check its md5, move it into place.

    Returns the host it came from. Raises :class:`DownloadFailed` if no mirror served it,
    :class:`~cnn_tui.idx.DataError` if one served it with the wrong md5.
    """
    reasons: list[str] = []
    for url in (str(mirror) + gz for mirror in mirrors):
        tmp: Path | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=f".{gz}.", suffix=".part", dir=folder)
            os.close(fd)
            tmp = Path(name)
            get(url, tmp, progress)
            if (got := _md5(tmp)) != md5:
                raise DataError(
                    f"{gz} downloaded from {url} has md5 {got}, expected {md5}: the download "
                    "is corrupt; try again later, or pass --data-dir with good files"
                )
            os.replace(tmp, folder / gz)
            return urlsplit(url).netloc
        except (OSError, HTTPException) as err:
            reasons.append(_reason(err))
            if progress:
                progress(f"downloading {gz} from {urlsplit(url).netloc} failed: {reasons[-1]}")
        finally:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
    raise DownloadFailed("; ".join(dict.fromkeys(reasons)) or "no mirrors")


def _reason(err: BaseException) -> str:
    """A short line for why a download failed."""
    if isinstance(err, urllib.error.HTTPError):
        return f"HTTP {err.code} {err.reason}"
    prefix = ""
    if isinstance(err, urllib.error.URLError):
        prefix = "no network: "
        err = err.reason if isinstance(err.reason, BaseException) else OSError(str(err.reason))
    if isinstance(err, TimeoutError):
        return f"{prefix}no answer within {TIMEOUT_S:g} s"
    text = prefix + ((err.strerror if isinstance(err, OSError) else None) or str(err))
    return text if len(text) <= 100 else text[:97] + "..."


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
