"""Make this sample issue's supplied adverts, as an advertiser's studio would send them.

    .venv/bin/python issues/issue-2022-04-08/ads/make_ads.py

Each is one page whose trim is the booked size (2 columns x 8 cm, 3 x 6 cm, 3 x 12 cm and 2 x 15 cm
on the house grid), set by WeasyPrint with the paper's own open fonts (embedded and subset), every colour
DeviceCMYK (black text in K only, a red build M 100 Y 100), marked PDF/X-1a with an output intent, and
with the Lab colour spaces WeasyPrint declares on every page (and never uses) removed: what a
Pass4Press-checked PDF/X-1a file carries. The tests call ``make_advert`` to make faulty ones too
(RGB colour, a font not embedded, the wrong size). Same inputs, same bytes (fixed dates and IDs).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pikepdf

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MM = 72 / 25.4
FONTS = """
@font-face { font-family: "Ad Sans"; src: url(%(fonts)s/PTS55F.ttf); font-weight: 400; }
@font-face { font-family: "Ad Sans"; src: url(%(fonts)s/PTS75F.ttf); font-weight: 700; }
@font-face { font-family: "Ad Head"; src: url(%(fonts)s/PTN77F.ttf); font-weight: 700; }
"""
ADVERTS = {
    "coop-bakery.pdf": (2, 80, "Co-op Bakery", "Bread baked by union labour since 1921",
                        ["Fresh every morning", "12 High Street, Hackney", "Open 7 till 3, Monday to Saturday"]),
    "rising-tide-books.pdf": (3, 60, "Rising Tide Books", "Radical books, new and second-hand",
                              ["Ten per cent off for trade union members", "81 Marchmont Street, London WC1",
                               "risingtidebooks.example"]),
    "trades-council.pdf": (3, 120, "May Day in the Park", "Hackney Trades Council invites every union branch",
                           ["Sunday 1 May, from noon, Clissold Park", "Speakers from the bus, care and rail unions",
                            "Music, food, children's games and the banners of forty branches",
                            "Bring your branch banner: assemble at the north gate at 11.30",
                            "Stewards wanted: write to the Trades Council secretary"]),
    "folk-festival.pdf": (2, 150, "Songs of Labour", "A festival of working people's music",
                          ["Three days of song, 20-22 May", "Miners' Welfare Hall, Easington",
                           "Weekend tickets £25, unwaged £10", "Camping on the welfare field",
                           "Choirs, brass bands and singarounds", "songsoflabour.example"]),
}


def column_width(columns: int) -> float:
    """The booked width of ``columns`` columns on the house grid, in points (from issues/paper.yaml)."""
    sys.path.insert(0, str(ROOT))
    from layout.reading.settings import load_settings

    return load_settings(ROOT / "issues" / "paper.yaml").span_width(columns)


def make_advert(path: Path, width: float, height: float, headline: str, strap: str, lines: list[str],
                *, rgb: bool = False, embed_fonts: bool = True, transparent: bool = False,
                small_type: bool = False, fonts: Path = ROOT / "fonts") -> Path:
    """Write an advert of ``width`` x ``height`` points to ``path``; ``rgb`` sets its red in RGB,
    ``embed_fonts=False`` strips its fonts' programs and ``transparent`` makes its red band
    half-transparent and ``small_type`` sets its lines at 6.5 pt (faulty adverts, for the tests)."""
    import weasyprint

    red = "rgb(220 20 30)" if rgb else "device-cmyk(0 1 1 0)"
    black = "device-cmyk(0 0 0 1)"
    items = "".join(f"<p>{line}</p>" for line in lines)
    html = f"""<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>{headline}</title>
<meta name="dcterms.created" content="2022-04-01T00:00:00Z"><meta name="dcterms.modified" content="2022-04-01T00:00:00Z">
<style>{FONTS % {"fonts": fonts.as_uri()}}
@page {{ size: {width:.3f}pt {height:.3f}pt; margin: 0 }}
html {{ font-family: "Ad Sans"; color: {black}; }}
body {{ margin: 0; }}
.ad {{ box-sizing: border-box; width: {width:.3f}pt; height: {height:.3f}pt; border: 1.5pt solid {black};
      padding: 6pt 8pt; text-align: center; }}
h1 {{ font: 700 24pt/1 "Ad Head"; color: {red}; margin: 2pt 0 4pt; }}
.strap {{ font-weight: 700; font-size: 10pt; margin: 0 0 6pt; }}
.band {{ background: {red}; height: 3pt; margin: 0 0 6pt;{" opacity: 0.5;" if transparent else ""} }}
p {{ font-size: {6.5 if small_type else 9}pt; margin: 0 0 2pt; }}
</style></head><body><div class="ad"><h1>{headline}</h1><p class="strap">{strap}</p><div class="band"></div>
{items}</div></body></html>"""
    document = weasyprint.HTML(string=html, base_url=str(fonts)).render()
    raw = document.write_pdf(pdf_variant="pdf/x-1a", uncompressed_pdf=False)
    with pikepdf.open(io.BytesIO(raw)) as pdf:
        page = pdf.pages[0]
        page.obj.TrimBox = pikepdf.Array([0, 0, round(width, 4), round(height, 4)])
        spaces = page.Resources.get("/ColorSpace")
        if spaces is not None:  # the Lab spaces WeasyPrint declares and never uses
            for name in list(spaces.keys()):
                del spaces[name]
            del page.Resources["/ColorSpace"]
        if not embed_fonts:
            for font in page.Resources.get("/Font", {}).values():
                target = font.DescendantFonts[0] if "/DescendantFonts" in font else font
                descriptor = target.get("/FontDescriptor")
                if descriptor is not None:
                    for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                        if key in descriptor:
                            del descriptor[key]
        ident = pikepdf.String(b"nw-advert-" + path.name.encode()[:6])
        pdf.trailer.ID = pikepdf.Array([ident, ident])
        out = io.BytesIO()
        pdf.save(out, deterministic_id=False, static_id=True)
    path.write_bytes(out.getvalue())
    return path


def main() -> None:
    for name, (columns, depth_mm, headline, strap, lines) in ADVERTS.items():
        make_advert(HERE / name, column_width(columns), depth_mm * MM, headline, strap, lines)
        print(f"{name}: {columns} columns x {depth_mm / 10:g} cm")


if __name__ == "__main__":
    main()
