"""Import and export: the CNS North Korea Missile Test Database, and our own CSV and JSON.

`import_file` and `export_data` are what the CLI and `/event export` call; `FORMATS` names
the formats `import_file` reads, and the CLI's `db import --format` offers those.
"""

from bot.transfer.importer import FORMATS, Format, ImportReport, import_file
from bot.transfer.parsing import UnreadableFile
from bot.transfer.records import export_data

__all__ = ["FORMATS", "Format", "ImportReport", "UnreadableFile", "export_data", "import_file"]
