"""Helpers for the picture tests: a worker that can be held or made to fail, and what a
picture in a Discord message must be (a PNG upload that its embed shows)."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from PIL import Image

from bot.emulator.api import MessageRecord
from bot.pictures.render import draw

#: Discord shows an attachment up to 8 MB to anyone; LaunchWatch keeps its pictures small.
MAX_BYTES = 500 * 1024


class Worker(Executor):
    """The session's picture worker behind a gate: drawings (`draw`) are counted and,
    while `hold()` is on, wait at the gate; with `fail()`, they raise in the worker's
    stead. Anything else (the warm-up) goes straight through."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.drawn = 0  # drawings asked for
        self.waiting = 0  # drawings held at the gate now
        self.gate = threading.Event()
        self.gate.set()
        self.failing = False
        self._threads = ThreadPoolExecutor(4)

    def hold(self) -> None:
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    def fail(self) -> None:
        self.failing = True

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        if fn is not draw:
            return self.inner.submit(fn, *args, **kwargs)
        self.drawn += 1

        def run() -> Any:
            self.waiting += 1
            try:
                self.gate.wait()
            finally:
                self.waiting -= 1
            if self.failing:
                raise RuntimeError("the worker ran out of memory (a test's failure)")
            return self.inner.submit(fn, *args, **kwargs).result()

        return self._threads.submit(run)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.gate.set()
        self._threads.shutdown(wait=wait, cancel_futures=cancel_futures)


def pictures_of(message: MessageRecord | None) -> list[tuple[str, bytes, str]]:
    """The message's pictures, checked as Discord and a reader need them: each upload is
    shown by an embed (`attachment://` its file name) and every embed image names an
    upload of this message; each is a PNG about 1,200 px wide, under 500 KB, with a
    description (alt text). Returns (file name, bytes, description) for each."""
    assert message is not None
    uploads = {a.filename: a for a in message.attachments}
    shown = [e["image"]["url"] for e in message.embeds if (e.get("image") or {}).get("url")]
    assert sorted(shown) == sorted(f"attachment://{name}" for name in uploads), (shown, uploads)
    found = []
    for name, upload in uploads.items():
        image = Image.open(io.BytesIO(upload.content))
        assert image.format == "PNG", name
        assert 1000 <= image.width <= 1400, image.size
        assert len(upload.content) < MAX_BYTES, len(upload.content)
        assert upload.description and len(upload.description) <= 1024, upload.description
        found.append((name, upload.content, upload.description))
    return found
