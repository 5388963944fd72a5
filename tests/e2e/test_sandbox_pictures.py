"""The sandbox shows the pictures: the console saves each file the bot sends beside the
store and prints where."""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path

from PIL import Image

from bot.config import load_config
from bot.sandbox.lines import script_source
from bot.sandbox.session import sandbox_session

ROOT = Path(__file__).resolve().parents[2]


async def test_the_console_saves_each_picture_and_prints_its_path(tmp_path: Path) -> None:
    """examples/pictures.txt: /chart timeline, /launch of the Kim Chaek launch, /chart map;
    three PNG files beside the store, each named in the transcript where it was shown."""
    lines = (ROOT / "examples/pictures.txt").read_text(encoding="utf-8").splitlines()
    out = io.StringIO()
    db = tmp_path / "pictures.db"
    code = await sandbox_session(
        load_config(None, env={}), db, script_source(lines), out=out, echo=True, settle=0.02
    )
    text = out.getvalue()
    assert code == 0, text
    saved = re.findall(r"📎 (\S+) \(([\d,]+) bytes\), saved as:\n +(\S+)\n", text)
    assert [name for name, _, _ in saved] == ["chart.png", "map.png", "sites.png"]
    for name, size, path in saved:
        file = Path(path)
        assert file.parent == tmp_path / "pictures-files" and file.name.endswith(name)
        data = await asyncio.to_thread(file.read_bytes)
        assert len(data) == int(size.replace(",", ""))
        assert Image.open(io.BytesIO(data)).format == "PNG"
