"""Reading composed PDFs back: page text, words in order, baselines."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pdfplumber
from pypdf import PdfReader


def page_texts(pdf: Path) -> list[str]:
    """Return the extracted text of each page."""
    return [page.extract_text() or "" for page in PdfReader(pdf).pages]


def letters(text: str) -> str:
    """Return ``text`` reduced to lower-case letters and digits (hyphenation and spacing undone)."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"[^0-9a-z]", "", text.lower())


def body_baselines(pdf: Path, font: str = "NW-Text", size: float = 9.0) -> list[list[float]]:
    """Return, per page, the distinct baselines (points from the top) of body-size text in ``font``."""
    out = []
    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            ys = {round(c["bottom"], 2) for c in page.chars
                  if font in c["fontname"] and abs(c["size"] - size) < 0.01}
            out.append(sorted(ys))
    return out
