"""Copy each rule's README.md (codemods/<rule>/README.md, the one place its prose lives) to
docs/rules/<rule-name>.md. `tests/test_golden.py` fails when the two drift: run this after editing a
rule's README."""

from __future__ import annotations

from pathlib import Path

from idem_fix.codemods.engine.rules import all_rules

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def main() -> None:
    for name, rule in all_rules().items():
        page = DOCS / f"{name}.md"
        text = rule.doc.text
        if not page.is_file() or page.read_text(encoding="utf-8") != text:
            page.write_text(text, encoding="utf-8")
            print(f"wrote {page.relative_to(DOCS.parent.parent)}")


if __name__ == "__main__":
    main()
