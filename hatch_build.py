"""Build hook: compile the message catalogs (`lineoa_pipeline/settings/locale/*/LC_MESSAGES/*.po`) to `.mo`.

It runs in every build of the wheel, the editable install `uv sync` makes included, so a clean install has
them; `cache-keys` in pyproject.toml make `uv sync` build again when a catalog changes. The `.mo` files are
build output (not committed), listed as artifacts so that a wheel carries them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

CATALOGS = "lineoa_pipeline/settings/locale"


class CompileCatalogs(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path(self.root, CATALOGS).glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as source:
                catalog = read_po(source)
            mo = po.with_suffix(".mo")
            tmp = mo.with_name(f".{mo.name}.tmp")
            with tmp.open("wb") as target:
                write_mo(target, catalog)
            tmp.replace(mo)  # a process reading the catalog meanwhile never sees half of it
