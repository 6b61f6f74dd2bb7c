"""The venue kit: cards to hand out, a poster and a staff sheet for each active decoy number.

    python -m decoy_ops.kit [--out DIR] [--campaign ID ...] [--campaigns FILE]   (make kit)

Writes, per active number of each campaign that has kit texts, in its language:
    <campaign>-<label>-cards.pdf   ten 85 x 55 mm business cards on A4, with crop marks
    <campaign>-<label>-poster.pdf  A4, for inside toilet cubicles: a QR code saves the number
    <campaign>-<label>-staff.pdf   one page for the venue's staff
Every text is measured in the embedded font before it is drawn: one that does not fit its box,
or uses a character the font lacks, stops the kit with the campaign, language and field.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
import segno
import segno.helpers
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from decoy.campaigns import Campaign, DecoyNumber, load_campaigns
from decoy.kit_config import KIT_FIELDS, Kit
from decoy.settings import ConfigError
from decoy_ops import ROOT

FONT_DIR = Path(__file__).with_name("fonts")
REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
FONT_FILES = {REGULAR: FONT_DIR / "DejaVuSans.ttf", BOLD: FONT_DIR / "DejaVuSans-Bold.ttf"}
OUT_DIR = ROOT / "kit"
PAGE_W, PAGE_H = A4
CARD_W, CARD_H = 85 * mm, 55 * mm
CARD_COLUMNS, CARD_ROWS = 2, 5
CARD_PADDING = 7 * mm
CROP_GAP, CROP_LENGTH = 2 * mm, 5 * mm  # crop marks start 2 mm outside the cut, 5 mm long
MARGIN = 18 * mm  # poster and staff sheet
QR_SIZE = 70 * mm
INK = (0.11, 0.11, 0.16)
ACCENT = (0.55, 0.10, 0.35)
GREY = (0.45, 0.45, 0.5)
NBSP = "\u00a0"


class KitError(Exception):
    """A one-line reason the kit cannot be printed (campaign, language and field named)."""


def register_fonts() -> None:
    """Embed DejaVu Sans (regular and bold) once per process."""
    for name, path in FONT_FILES.items():
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path)))


def missing_glyphs(text: str, font: str = REGULAR) -> set[str]:
    """The characters of `text` the embedded font has no glyph for (spaces and newlines
    aside, which are not drawn as glyphs)."""
    register_fonts()
    cmap = pdfmetrics.getFont(font).face.charToGlyph
    return {c for c in text if c not in "\n" and ord(c) not in cmap}


def national(number: str) -> str:
    """'+33939000001' -> '09 39 00 00 01': the number as people of its country write it."""
    parsed = phonenumbers.parse(number, None)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def vcard(name: str, number: str) -> str:
    """A vCard 3.0 contact: the first name and the decoy number (E.164, dialable abroad)."""
    return segno.helpers.make_vcard_data(name=f";{name}", displayname=name, cellphone=number)


def delay_minutes(campaign: Campaign, default_seconds: int) -> str:
    """'60', or '30–60' for a campaign with a delay window."""
    window = campaign.delay_window
    if window is None:
        return f"{round(default_seconds / 60)}"
    return f"{window.min_seconds // 60}–{-(-window.max_seconds // 60)}"


def default_reply_delay(samconfig: Path = ROOT / "samconfig.toml",
                        template: Path = ROOT / "template.yaml") -> int:
    """ReplyDelaySeconds as deployed: samconfig.toml's override, else the template default."""
    try:
        overrides = tomllib.loads(samconfig.read_text(encoding="utf-8"))["default"]["deploy"][
            "parameters"].get("parameter_overrides", [])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        overrides = []
    for item in [overrides] if isinstance(overrides, str) else overrides:
        match = re.search(r"ReplyDelaySeconds=(\d+)", item)
        if match:
            return int(match.group(1))
    match = re.search(r"ReplyDelaySeconds:\s*\n(?:\s+\w+:.*\n)*?\s+Default:\s*(\d+)",
                      template.read_text(encoding="utf-8"))
    return int(match.group(1)) if match else 3600


@dataclass(frozen=True)
class Texts:
    """One number's kit texts, placeholders filled."""

    campaign: str
    language: str
    label: str
    number: str  # national format
    e164: str
    values: dict[str, Any]
    helplines: tuple[tuple[str, str], ...]

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def where(self, name: str) -> str:
        return f"campaign '{self.campaign}' ({self.language}), number '{self.label}': " \
               f"field '{name}'"


def texts_for(campaign: Campaign, entry: DecoyNumber, default_delay: int) -> Texts:
    kit = _kit(campaign)
    # In running text the number's spaces do not break: '02 800' never ends a line.
    filling = {"name": kit.contact_name, "number": national(entry.number).replace(" ", NBSP),
               "delay": delay_minutes(campaign, default_delay)}
    values = {name: ([v.format(**filling) for v in value] if isinstance(value, list)
                     else value.format(**filling))
              for name, value in kit.texts.items() if name in KIT_FIELDS}
    return Texts(campaign.id, campaign.language, entry.label, national(entry.number),
                 entry.number,
                 values, tuple((h.name, h.number) for h in kit.helplines))


def _kit(campaign: Campaign) -> Kit:
    if campaign.kit is None:
        raise KitError(f"campaign '{campaign.id}': no kit texts for language "
                       f"{campaign.language}: add kit_texts.{campaign.language.split('-')[0]} "
                       "or the campaign's field 'kit'")
    return campaign.kit


def check_glyphs(texts: Texts) -> None:
    """Every character every text uses has a glyph in the embedded fonts."""
    for name, value in [*texts.values.items(),
                        *((f"kit.helplines[{i}]", f"{n} {d}")
                          for i, (n, d) in enumerate(texts.helplines))]:
        for font in (REGULAR, BOLD):
            lacking = missing_glyphs("".join(value) if isinstance(value, list) else value, font)
            if lacking:
                raise KitError(f"{texts.where(name)} uses {sorted(lacking)!r}, which the "
                               f"embedded font {font} cannot draw")


# --- measuring and placing text -----------------------------------------------------------


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap on ordinary spaces only: no-break spaces (U+00A0, U+202F) keep
    '« non »' and 'numéro :' together. A word wider than `width` is returned alone
    (the caller's fit check refuses it)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and pdfmetrics.stringWidth(candidate, font, size) > width:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return lines


@dataclass(frozen=True)
class Fit:
    """How much of a box its texts use: the report's and the tests' figure."""

    box: str
    used: float  # points
    available: float

    @property
    def ratio(self) -> float:
        return self.used / self.available


@dataclass
class Flow:
    """Text placed top-down in a box; anything that would cross the box's edge raises."""

    canvas: Canvas
    texts: Texts
    box: str
    left: float
    top: float
    width: float
    bottom: float
    start: float = field(init=False)

    def __post_init__(self) -> None:
        self.start = self.top

    def fit(self) -> Fit:
        return Fit(self.box, self.start - self.top, self.start - self.bottom)

    def paragraph(self, name: str, text: str, font: str = REGULAR, size: float = 11,
                  leading: float | None = None, after: float = 6, indent: float = 0,
                  bullet: str | None = None, color: tuple[float, float, float] = INK) -> None:
        leading = leading or size * 1.3
        width = self.width - indent
        lines = wrap(text, font, size, width)
        widest = max(pdfmetrics.stringWidth(line, font, size) for line in lines)
        height = leading * len(lines)
        if widest > width:
            raise KitError(f"{self.texts.where(name)}: a word is wider than its box "
                           f"({widest / mm:.0f} mm > {width / mm:.0f} mm)")
        if self.top - height < self.bottom:
            raise KitError(f"{self.texts.where(name)} does not fit its box ({self.box}): "
                           f"{height / mm:.0f} mm of text, {(self.top - self.bottom) / mm:.0f} "
                           "mm left")
        self.canvas.setFillColorRGB(*color)
        if bullet:  # in the indent, left-aligned
            self.canvas.setFont(BOLD, size)
            self.canvas.drawString(self.left, self.top - size, bullet)
        self.canvas.setFont(font, size)
        for i, line in enumerate(lines):
            self.canvas.drawString(self.left + indent, self.top - size - i * leading, line)
        self.top -= height + after

    def skip(self, points: float, name: str) -> None:
        if self.top - points < self.bottom:
            raise KitError(f"{self.texts.where(name)}: no room left in its box ({self.box})")
        self.top -= points


def fitted_line(texts: Texts, name: str, text: str, font: str, size: float,
                width: float) -> float:
    """The width of a one-line text; raises when it is wider than `width`."""
    used = pdfmetrics.stringWidth(text, font, size)
    if used > width:
        raise KitError(f"{texts.where(name)} does not fit on one line: "
                       f"{used / mm:.0f} mm > {width / mm:.0f} mm")
    return used


def _margin_note(canvas: Canvas, texts: Texts, y: float) -> None:
    """The label, outside what is cut or read: which venue's batch this is."""
    canvas.setFont(REGULAR, 7)
    canvas.setFillColorRGB(*GREY)
    canvas.drawString(25 * mm, y, f"{texts.campaign} · {texts.label}")


def _new_canvas(path: Path, title: str, language: str) -> Canvas:
    # invariant: the same bytes every run (no date, fixed ids), so docs and tests can compare.
    canvas = Canvas(str(path), pagesize=A4, invariant=1, lang=language)
    canvas.setTitle(title)
    canvas.setAuthor("decoy-number kit")
    return canvas


# --- the three documents --------------------------------------------------------------------


def card_origins() -> Iterator[tuple[float, float]]:
    """Lower-left corners of the cards, row by row from the top, centred on the page."""
    left = (PAGE_W - CARD_COLUMNS * CARD_W) / 2
    bottom = (PAGE_H - CARD_ROWS * CARD_H) / 2
    for row in range(CARD_ROWS):
        for column in range(CARD_COLUMNS):
            yield left + column * CARD_W, bottom + (CARD_ROWS - 1 - row) * CARD_H


def _crop_marks(canvas: Canvas) -> None:
    left = (PAGE_W - CARD_COLUMNS * CARD_W) / 2
    bottom = (PAGE_H - CARD_ROWS * CARD_H) / 2
    right, top = left + CARD_COLUMNS * CARD_W, bottom + CARD_ROWS * CARD_H
    canvas.setStrokeColorRGB(0, 0, 0)
    canvas.setLineWidth(0.3)
    for i in range(CARD_COLUMNS + 1):
        x = left + i * CARD_W
        canvas.line(x, top + CROP_GAP, x, top + CROP_GAP + CROP_LENGTH)
        canvas.line(x, bottom - CROP_GAP, x, bottom - CROP_GAP - CROP_LENGTH)
    for j in range(CARD_ROWS + 1):
        y = bottom + j * CARD_H
        canvas.line(left - CROP_GAP, y, left - CROP_GAP - CROP_LENGTH, y)
        canvas.line(right + CROP_GAP, y, right + CROP_GAP + CROP_LENGTH, y)


def draw_cards(texts: Texts, path: Path) -> list[Fit]:
    """Ten cards: a first name (each card the next one of the list) and the number."""
    canvas = _new_canvas(path, f"{texts.campaign} {texts.label} cards", texts.language)
    inner = CARD_W - 2 * CARD_PADDING
    names = texts["first_names"]
    widest = max(fitted_line(texts, "first_names", n, BOLD, 20, inner) for n in names)
    number = fitted_line(texts, "number", texts.number, REGULAR, 17, inner)
    fits = [Fit("card: first name", widest, inner), Fit("card: number", number, inner)]
    for i, (x, y) in enumerate(card_origins()):
        name = names[i % len(names)]
        canvas.setFillColorRGB(*INK)
        canvas.setFont(BOLD, 20)
        canvas.drawString(x + CARD_PADDING, y + CARD_H - CARD_PADDING - 20 - 6 * mm, name)
        canvas.setFont(REGULAR, 17)
        canvas.drawString(x + CARD_PADDING, y + CARD_PADDING + 6 * mm, texts.number)
        canvas.setStrokeColorRGB(*ACCENT)
        canvas.setLineWidth(1.2)
        line_y = y + CARD_PADDING + 6 * mm + 17 + 2.5 * mm
        canvas.line(x + CARD_PADDING, line_y, x + CARD_PADDING + 12 * mm, line_y)
    _crop_marks(canvas)
    _margin_note(canvas, texts, PAGE_H - 6 * mm)
    canvas.showPage()
    canvas.save()
    return fits


def draw_qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR code as vector squares (one rectangle per run of dark modules), quiet zone
    included in `size`."""
    qr = segno.make(data, error="m", micro=False)
    rows = list(qr.matrix_iter(scale=1, border=4))
    module = size / len(rows)
    canvas.setFillColorRGB(1, 1, 1)
    canvas.rect(x, y, size, size, stroke=0, fill=1)
    canvas.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                canvas.rect(x + start * module, y + size - (r + 1) * module,
                            (c - start) * module, module, stroke=0, fill=1)
            else:
                c += 1


def _helplines(flow: Flow, texts: Texts, size: float) -> None:
    for i, (name, number) in enumerate(texts.helplines):
        flow.paragraph(f"kit.helplines[{i}]", f"{number}   {name}", BOLD if i == 0 else REGULAR,
                       size, after=2)


def draw_poster(texts: Texts, contact: str, path: Path) -> list[Fit]:
    canvas = _new_canvas(path, f"{texts.campaign} {texts.label} poster", texts.language)
    width = PAGE_W - 2 * MARGIN
    help_top = MARGIN + 40 * mm  # the help box at the bottom
    canvas.setFillColorRGB(*ACCENT)
    canvas.rect(0, PAGE_H - 10 * mm, PAGE_W, 10 * mm, stroke=0, fill=1)
    head = Flow(canvas, texts, "poster: title and lead", MARGIN, PAGE_H - 22 * mm, width,
                help_top + QR_SIZE + 12 * mm + 48)
    head.paragraph("poster_title", texts["poster_title"], BOLD, 26, after=12, color=ACCENT)
    head.paragraph("poster_lead", texts["poster_lead"], REGULAR, 13.5, after=14)
    fitted_line(texts, "number", texts.number, BOLD, 44, width)
    canvas.setFont(BOLD, 44)
    canvas.setFillColorRGB(*INK)
    canvas.drawCentredString(PAGE_W / 2, head.top - 44, texts.number)
    top = head.top - 44 - 16 * mm
    # The steps on the left, the QR code and its caption on the right.
    qr_x, qr_y = PAGE_W - MARGIN - QR_SIZE, top - QR_SIZE
    steps = Flow(canvas, texts, "poster: steps", MARGIN, top, qr_x - MARGIN - 8 * mm,
                 help_top + 6 * mm)
    steps.paragraph("poster_steps_heading", texts["poster_steps_heading"], BOLD, 16, after=8)
    for i, step in enumerate(texts["poster_steps"]):
        steps.paragraph(f"poster_steps[{i}]", step, REGULAR, 12.5, after=8, indent=7 * mm,
                        bullet=f"{i + 1}.")
    draw_qr(canvas, vcard(contact, texts.e164), qr_x, qr_y, QR_SIZE)
    caption = Flow(canvas, texts, "poster: QR caption", qr_x + 4 * mm, qr_y - 1 * mm,
                   QR_SIZE - 8 * mm, help_top + 6 * mm)
    caption.paragraph("poster_qr", texts["poster_qr"], BOLD, 11, after=0)
    canvas.setFillColorRGB(0.96, 0.92, 0.95)
    canvas.roundRect(MARGIN - 4 * mm, MARGIN - 4 * mm, width + 8 * mm, help_top - MARGIN,
                     3 * mm, stroke=0, fill=1)
    bottom = Flow(canvas, texts, "poster: help", MARGIN, help_top - 8 * mm, width, MARGIN)
    bottom.paragraph("poster_help", texts["poster_help"], BOLD, 12, after=6)
    _helplines(bottom, texts, 12)
    _margin_note(canvas, texts, 6 * mm)
    canvas.showPage()
    canvas.save()
    return [head.fit(), steps.fit(), caption.fit(), bottom.fit()]


def draw_staff_sheet(texts: Texts, path: Path) -> list[Fit]:
    canvas = _new_canvas(path, f"{texts.campaign} {texts.label} staff sheet", texts.language)
    flow = Flow(canvas, texts, "staff sheet", MARGIN, PAGE_H - MARGIN, PAGE_W - 2 * MARGIN,
                MARGIN)
    flow.paragraph("staff_title", texts["staff_title"], BOLD, 21, after=10, color=ACCENT)
    flow.paragraph("staff_intro", texts["staff_intro"], REGULAR, 12, after=14)
    for section in ("staff_help", "staff_number", "staff_poster"):
        flow.paragraph(f"{section}_heading", texts[f"{section}_heading"], BOLD, 14, after=6)
        for i, item in enumerate(texts[section]):
            flow.paragraph(f"{section}[{i}]", item, REGULAR, 11, after=4, indent=5 * mm,
                           bullet="•")
        flow.skip(10, section)
    flow.paragraph("staff_call_heading", texts["staff_call_heading"], BOLD, 14, after=6)
    _helplines(flow, texts, 12)
    flow.skip(8, "staff_call_heading")
    flow.paragraph("staff_call_missing", texts["staff_call_missing"], REGULAR, 11.5, after=4)
    for _ in range(3):  # lines to write a local association's number on
        flow.skip(9 * mm, "staff_call_missing")
        canvas.setStrokeColorRGB(*GREY)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, flow.top, PAGE_W - MARGIN, flow.top)
    _margin_note(canvas, texts, 7 * mm)
    canvas.showPage()
    canvas.save()
    return [flow.fit()]


@dataclass
class Written:
    """One number's three PDFs, and how full each text's box was."""

    campaign: str
    label: str
    files: list[Path]
    fits: list[Fit]


def write_number(campaign: Campaign, entry: DecoyNumber, out_dir: Path,
                 default_delay: int) -> Written:
    register_fonts()
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = texts_for(campaign, entry, default_delay)
    check_glyphs(texts)
    stem = out_dir / f"{campaign.id}-{entry.label}"
    files = [stem.with_name(stem.name + suffix)
             for suffix in ("-cards.pdf", "-poster.pdf", "-staff.pdf")]
    fits = draw_cards(texts, files[0])
    fits += draw_poster(texts, _kit(campaign).contact_name, files[1])
    fits += draw_staff_sheet(texts, files[2])
    return Written(campaign.id, entry.label, files, fits)


def write_kit(campaigns: Iterable[Campaign], out_dir: Path, default_delay: int,
              only: set[str] | None = None) -> tuple[list[Written], list[str]]:
    """The PDFs of every active number of the chosen campaigns (all by default); also the
    warnings a deployer must read (campaigns skipped, helplines left to fill)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written, warnings = [], []
    for campaign in campaigns:
        if only and campaign.id not in only:
            continue
        if campaign.kit is None:
            warnings.append(f"campaign '{campaign.id}': no kit texts for {campaign.language}, "
                            "no kit printed")
            continue
        if not campaign.kit.helplines:
            warnings.append(f"campaign '{campaign.id}': field 'kit.helplines' is empty: the "
                            "staff sheet only has blank lines to fill in by hand")
        if not campaign.active_numbers:
            warnings.append(f"campaign '{campaign.id}': every number is retired, no kit printed")
        for entry in campaign.active_numbers:
            written.append(write_number(campaign, entry, out_dir, default_delay))
    return written, warnings


# --- pictures of the pages for docs/kit.md (make docs) -----------------------------------------

DOCS_PAGES = ROOT / "docs" / "kit"
# The pages docs/kit.md shows: the pool's campaign in French, a Dutch poster, an English sheet.
SHOWN = [("fr-be", "bar-le-central", "cards"), ("fr-be", "bar-le-central", "poster"),
         ("fr-be", "bar-le-central", "staff"), ("nl-be", "main", "poster"),
         ("en", "main", "staff")]
PAGES_INDEX = "pages.txt"


def pdf_digests(paths: Iterable[Path]) -> dict[str, str]:
    """sha256 of each PDF (the kit writes the same bytes for the same input)."""
    import hashlib

    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def render_docs_pages(out: Path = DOCS_PAGES, dpi: int = 90) -> list[Path]:
    """Write the kit for the shipped campaigns, render SHOWN pages to PNG (pypdfium2, a dev
    package) and list each PNG with the digest of the PDF it shows."""
    import tempfile

    import pypdfium2

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kit-") as scratch:
        written, _ = write_kit(load_campaigns(), Path(scratch), default_reply_delay())
        files = {p.name: p for item in written for p in item.files}
        index, pngs = [], []
        for campaign, label, kind in SHOWN:
            pdf = files[f"{campaign}-{label}-{kind}.pdf"]
            png = out / pdf.with_suffix(".png").name
            document = pypdfium2.PdfDocument(str(pdf))
            document[0].render(scale=dpi / 72).to_pil().save(png, optimize=True)
            document.close()
            index.append(f"{png.name} {pdf_digests([pdf])[pdf.name]}")
            pngs.append(png)
    (out / PAGES_INDEX).write_text(
        "# PNG  sha256 of the PDF it shows (make docs rewrites both; a test compares)\n"
        + "\n".join(index) + "\n", encoding="utf-8")
    return pngs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m decoy_ops.kit",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR,
                        help=f"directory for the PDFs (default: {OUT_DIR.relative_to(ROOT)})")
    parser.add_argument("--campaign", action="append", metavar="ID",
                        help="only this campaign (repeatable; default: all)")
    parser.add_argument("--campaigns", type=Path, metavar="FILE",
                        help="campaigns file (default: CAMPAIGNS_FILE or the shipped one)")
    parser.add_argument("--reply-delay-seconds", type=int,
                        help="ReplyDelaySeconds, for the texts' {delay} (default: "
                             "samconfig.toml's override, else template.yaml's default)")
    args = parser.parse_args(argv)
    try:
        campaigns = load_campaigns(args.campaigns)
        unknown = sorted(set(args.campaign or ()) - {c.id for c in campaigns})
        if unknown:
            raise KitError(f"campaign '{unknown[0]}' is not in the campaigns file")
        delay = args.reply_delay_seconds or default_reply_delay()
        written, warnings = write_kit(campaigns, args.out, delay, set(args.campaign or ()))
    except (ConfigError, KitError) as exc:
        print(f"kit: {exc}", file=sys.stderr)
        return 1
    for item in written:
        fullest = max(item.fits, key=lambda f: f.ratio)
        print(f"{item.campaign:13} {item.label:15} {len(item.files)} PDFs  fullest box: "
              f"{fullest.box} {fullest.ratio:.0%}")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
