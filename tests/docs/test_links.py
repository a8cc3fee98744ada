"""The documentation holds together: links resolve, every page is reachable from the index,
every ADR is in the architecture page's index, and the guides name only real variables."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

REPO = Path(settings.BASE_DIR)
DOCS = REPO / "docs"
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
VARIABLE = re.compile(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`")
NOT_SERVER_VARIABLES = {"AUTHCORE_URL"}  # where the examples find the server
# Pages written for issue 10 (the guides, index, quickstart, architecture) and the README.
TIED_PAGES = [
    REPO / "README.md",
    DOCS / "index.md",
    DOCS / "quickstart.md",
    DOCS / "architecture.md",
    *sorted((DOCS / "guides").glob("*.md")),
]


def markdown_pages() -> list[Path]:
    return [REPO / "README.md", *sorted(DOCS.rglob("*.md"))]


def local_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)  # not inside code
    return [
        target
        for target in LINK.findall(text)
        if not re.match(r"[a-z]+:", target) and not target.startswith("#")
    ]


def test_every_relative_link_in_the_readme_and_docs_points_at_an_existing_file() -> None:
    broken = []
    for page in markdown_pages():
        for target in local_links(page):
            path = target.split("#", 1)[0]
            if path.startswith("/") or not (page.parent / path).resolve().exists():
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_every_docs_page_is_linked_from_the_index() -> None:
    index = DOCS / "index.md"
    linked = {(DOCS / target.split("#")[0]).resolve() for target in local_links(index)}
    pages = {page.resolve() for page in DOCS.rglob("*.md") if page != index}
    adrs = {page.resolve() for page in (DOCS / "adr").glob("*.md")}
    missing = sorted(str(page.relative_to(REPO)) for page in pages - adrs - linked)
    assert not missing, f"add to docs/index.md: {missing}"


def test_every_adr_is_in_the_architecture_index() -> None:
    text = (DOCS / "architecture.md").read_text()
    missing = [adr.name for adr in sorted((DOCS / "adr").glob("*.md")) if adr.name not in text]
    assert not missing, f"add to the ADR table of docs/architecture.md: {missing}"


def test_the_guides_name_only_variables_that_the_configuration_page_documents() -> None:
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", (DOCS / "configuration.md").read_text()))
    unknown = []
    for page in TIED_PAGES:
        text = page.read_text()
        for name in sorted(set(VARIABLE.findall(text)) - documented - NOT_SERVER_VARIABLES):
            unknown.append(f"{page.relative_to(REPO)}: {name}")
    assert not unknown, "not in docs/configuration.md:\n" + "\n".join(unknown)
