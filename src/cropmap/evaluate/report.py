"""A self-contained HTML report: tables, figures (base64 PNG), config and versions.

The file needs nothing else to be read: images are embedded as ``data:`` URIs, the
config is inlined as YAML, and there are no scripts or external stylesheets.
"""

from __future__ import annotations

import base64
import html
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from cropmap.io.atomic import atomic_write_text

#: Packages whose versions the report lists.
REPORT_PACKAGES: tuple[str, ...] = (
    "cropmap",
    "torch",
    "numpy",
    "scikit-learn",
    "rasterio",
    "geopandas",
    "lightning",
    "torchmetrics",
    "pydantic",
    "matplotlib",
)

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #bbb;padding:3px 8px;text-align:center}
img{max-width:100%;border:1px solid #ddd}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}
.note{color:#555;font-size:14px}
"""


@dataclass
class Section:
    """One report section: a heading, paragraphs, markdown tables, PNG images, code."""

    title: str
    text: Sequence[str] = field(default_factory=tuple)
    tables: Sequence[str] = field(default_factory=tuple)
    images: Sequence[Path] = field(default_factory=tuple)
    code: str | None = None


def package_versions(names: Iterable[str] = REPORT_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``not installed`` if absent) plus Python."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def markdown_table_to_html(md: str) -> str:
    """Convert a pipe table (header, ``---`` rule, rows) to an HTML ``<table>``."""
    rows = [ln.strip() for ln in md.strip().splitlines() if ln.strip().startswith("|")]
    out = ["<table>"]
    for i, line in enumerate(rows):
        cells = [c.strip() for c in line.strip("|").split("|")]
        if all(set(c) <= set("-: ") and c for c in cells):
            continue
        tag = "th" if i == 0 else "td"
        out.append("<tr>" + "".join(f"<{tag}>{html.escape(c)}</{tag}>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def image_tag(path: str | Path, alt: str = "") -> str:
    """``<img>`` with the PNG file embedded as a base64 data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(alt or Path(path).stem)}" src="data:image/png;base64,{data}">'


def render_report(title: str, sections: Sequence[Section], versions: dict[str, str]) -> str:
    """The HTML text of the report."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for sec in sections:
        parts.append(f"<h2>{html.escape(sec.title)}</h2>")
        parts += [f'<p class="note">{html.escape(t)}</p>' for t in sec.text]
        parts += [markdown_table_to_html(t) for t in sec.tables]
        parts += [f"<p>{image_tag(p)}</p>" for p in sec.images if Path(p).is_file()]
        if sec.code:
            parts.append(f"<pre>{html.escape(sec.code)}</pre>")
    parts.append("<h2>Package versions</h2>")
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in versions.items()
    )
    parts.append(f"<table><tr><th>package</th><th>version</th></tr>{rows}</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(path: str | Path, title: str, sections: Sequence[Section]) -> Path:
    """Write the self-contained report to ``path`` (atomically) and return it."""
    return atomic_write_text(path, render_report(title, sections, package_versions()))
