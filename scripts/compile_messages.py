"""Compile every locale/*/LC_MESSAGES/*.po into its .mo with Babel (no GNU gettext needed).

`make run`, `make test` and the Dockerfile call this, so a fresh machine gets working
translations without `msgfmt`.
"""

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def compile_catalogues(root: Path = ROOT) -> list[Path]:
    compiled = []
    for po_path in sorted(root.glob("locale/*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        compiled.append(mo_path)
    return compiled


if __name__ == "__main__":
    paths = compile_catalogues()
    if not paths:
        sys.exit("no .po files under locale/")
    print(f"compiled {len(paths)} message catalogue(s)")
