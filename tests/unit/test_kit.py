"""The venue kit: each active number on its cards, poster and staff sheet, in its language;
every text fits its box and has glyphs; the QR code saves the number; docs pages are current."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from conftest import ROOT
from pypdf import PdfReader

from decoy.campaigns import DEFAULT_FILE, load_campaigns, parse_campaigns
from decoy.kit_config import KIT_FIELDS
from decoy_ops import kit

SHIPPED = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
CAMPAIGNS = load_campaigns(DEFAULT_FILE)
DELAY = 3600


@pytest.fixture(scope="module")
def shipped_kit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The kit of every shipped campaign, written once for this module."""
    out = tmp_path_factory.mktemp("kit")
    written, warnings = kit.write_kit(CAMPAIGNS, out, DELAY)
    return {"out": out, "written": written, "warnings": warnings}


def pdf_text(path: Path) -> str:
    """The PDF's text, no-break spaces (U+00A0, U+202F) read as spaces."""
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    return re.sub("[\u00a0\u202f]", " ", text)


def render(path: Path, dpi: int = 150):
    document = pypdfium2.PdfDocument(str(path))
    image = document[0].render(scale=dpi / 72).to_pil()
    document.close()
    return image


def document(campaign: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"version": 1, "kit_texts": SHIPPED["kit_texts"], "campaigns": [campaign], **top}


def one_campaign(**changes: Any):
    """The shipped 'fr' campaign with fields changed; its kit texts from the shipped file."""
    raw = copy.deepcopy(next(c for c in SHIPPED["campaigns"] if c["id"] == "fr"))
    raw.update(changes)
    (campaign,) = parse_campaigns(document(raw))
    return campaign


def test_each_active_number_gets_three_pdfs_named_by_campaign_and_label(shipped_kit):
    names = sorted(p.name for p in shipped_kit["out"].iterdir())
    expected = sorted(f"{c.id}-{n.label}-{kind}.pdf" for c in CAMPAIGNS for n in c.active_numbers
                      for kind in ("cards", "poster", "staff"))
    assert names == expected
    assert "fr-be-cards-2017-cards.pdf" not in names  # the retired number


def test_the_pdfs_hold_each_active_number_in_national_format_and_no_retired_one(shipped_kit):
    retired = [n for c in CAMPAIGNS for n in c.numbers if not n.active]
    assert retired, "the shipped config shows a pool with a retired number"
    for item in shipped_kit["written"]:
        campaign = CAMPAIGNS.by_id(item.campaign)
        (entry,) = [n for n in campaign.numbers if n.label == item.label]
        for path in item.files:
            text = pdf_text(path)
            assert kit.national(entry.number) in text, path.name
            for other in retired:
                assert kit.national(other.number) not in text, path.name
                assert other.number not in text, path.name


@pytest.mark.parametrize(("number", "written"), [
    ("+33939000001", "09 39 00 00 01"),
    ("+33644649021", "06 44 64 90 21"),  # the 2017 French number, as the press printed it
    ("+32460209399", "0460 20 93 99"),   # the 2017 Belgian number (press: 0460/20.93.99)
    ("+3228000005", "02 800 00 05"),
    ("+447700900004", "07700 900004"),
])
def test_numbers_are_printed_as_people_of_their_country_write_them(number, written):
    assert kit.national(number) == written


def test_a_card_holds_a_first_name_and_the_number_and_the_label_sits_in_the_margin(shipped_kit):
    path = shipped_kit["out"] / "fr-be-bar-le-central-cards.pdf"
    placed: list[tuple[str, float, float]] = []

    def visit(text, _cm, tm, _font, _size):
        if text.strip():
            placed.append((text.strip(), tm[4], tm[5]))

    PdfReader(path).pages[0].extract_text(visitor_text=visit)
    names = set(CAMPAIGNS.by_id("fr-be").kit.first_names)
    left = (kit.PAGE_W - kit.CARD_COLUMNS * kit.CARD_W) / 2
    bottom = (kit.PAGE_H - kit.CARD_ROWS * kit.CARD_H) / 2
    on_cards = [(t, x, y) for t, x, y in placed
                if left <= x <= kit.PAGE_W - left and bottom <= y <= kit.PAGE_H - bottom]
    outside = [t for t, x, y in placed if (t, x, y) not in on_cards]
    card_texts = {re.sub("[\u00a0\u202f]", " ", t) for t, _, _ in on_cards}
    assert card_texts <= names | {"02 800 00 05"}
    assert len(on_cards) == 2 * kit.CARD_COLUMNS * kit.CARD_ROWS  # a name and the number each
    assert any("bar-le-central" in t for t in outside)
    assert not any("bar-le-central" in t or "fr-be" in t for t in card_texts)


@pytest.mark.parametrize(("campaign_id", "label", "contact"), [
    ("fr-be", "bar-le-central", "Camille"), ("fr-be", "campus-ulb", "Camille"),
    ("nl-be", "main", "Lotte"), ("en", "main", "Emma"),
])
def test_the_poster_qr_code_saves_the_number_as_a_contact(shipped_kit, campaign_id, label,
                                                          contact):
    entry = next(n for n in CAMPAIGNS.by_id(campaign_id).numbers if n.label == label)
    (found,) = zxingcpp.read_barcodes(render(shipped_kit["out"] /
                                             f"{campaign_id}-{label}-poster.pdf"))
    assert found.format == zxingcpp.BarcodeFormat.QRCode
    lines = found.text.replace("\r\n", "\n").splitlines()
    assert lines[0] == "BEGIN:VCARD" and lines[-1] == "END:VCARD"
    assert f"FN:{contact}" in lines
    assert f"TEL;TYPE=CELL:{entry.number}" in lines


def test_every_text_fits_its_box_in_each_language(shipped_kit):
    languages = {CAMPAIGNS.by_id(item.campaign).language[:2] for item in shipped_kit["written"]}
    assert languages == {"fr", "nl", "en"}
    for item in shipped_kit["written"]:
        boxes = {f.box for f in item.fits}
        assert {"card: first name", "card: number", "poster: title and lead", "poster: steps",
                "poster: QR caption", "poster: help", "staff sheet"} <= boxes
        for fit in item.fits:
            assert 0 < fit.used <= fit.available, (item.campaign, fit)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("poster_title", "Quelqu’un insiste encore et encore " * 12,
     "field 'poster_title' does not fit its box (poster: title and lead)"),
    ("staff_help", ["Une consigne assez longue pour remplir la page. " * 6] * 6,
     "field 'staff_"),
    ("first_names", ["Wilhelmina-Maude"], "field 'first_names' does not fit on one line"),
    ("poster_qr", "Scannez-pour-enregistrer-ce-contact-tout-de-suite",
     "field 'poster_qr': a word is wider than its box"),
])
def test_a_text_too_long_for_its_box_stops_the_kit_naming_the_field(tmp_path, field, value,
                                                                     message):
    campaign = one_campaign(kit={field: value})
    with pytest.raises(kit.KitError, match=re.escape(message)) as caught:
        kit.write_number(campaign, campaign.numbers[0], tmp_path, DELAY)
    assert str(caught.value).startswith("campaign 'fr' (fr-FR), number 'main': ")


def test_the_embedded_font_has_every_glyph_the_shipped_texts_use():
    used = set()
    for campaign in CAMPAIGNS:
        for entry in campaign.active_numbers:
            texts = kit.texts_for(campaign, entry, DELAY)
            kit.check_glyphs(texts)
            for value in texts.values.values():
                used |= set("".join(value) if isinstance(value, list) else value)
    assert "\u202f" in used  # French: narrow no-break space before : ; ! ? and inside « »
    assert {"«", "»", "’", "é", "è", "à", "ç", "–"} <= used
    for font in (kit.REGULAR, kit.BOLD):
        assert kit.missing_glyphs("".join(sorted(used)), font) == set()


def test_a_character_the_font_lacks_is_refused_naming_the_field(tmp_path):
    campaign = one_campaign(kit={"poster_help": "Besoin d’aide ? 你好"})
    with pytest.raises(kit.KitError, match=r"field 'poster_help' uses \['你', '好'\]"):
        kit.write_number(campaign, campaign.numbers[0], tmp_path, DELAY)


def test_french_texts_put_a_narrow_no_break_space_before_high_punctuation():
    for name, value in SHIPPED["kit_texts"]["fr"].items():
        for text in value if isinstance(value, list) else [value]:
            assert not re.search(r"[ \u00a0][:;!?»]|«[ \u00a0]", text), (name, text)
            assert not re.search(r"\w[:;!?]", text.replace("http:", "")), (name, text)


def test_texts_name_the_delay_the_campaign_uses(tmp_path):
    belgian = CAMPAIGNS.by_id("fr-be")
    texts = kit.texts_for(belgian, belgian.active_numbers[0], DELAY)
    assert "30–60 minutes" in texts["poster_lead"]
    plain = CAMPAIGNS.by_id("fr")
    assert "60 minutes" in kit.texts_for(plain, plain.numbers[0], DELAY)["poster_lead"]
    assert kit.delay_minutes(plain, 5400) == "90"


def test_the_number_never_breaks_across_lines_in_running_text():
    campaign = CAMPAIGNS.by_id("fr-be")
    texts = kit.texts_for(campaign, campaign.active_numbers[0], DELAY)
    assert "02\u00a0800\u00a000\u00a005" in texts["staff_intro"]
    lines = kit.wrap(texts["staff_intro"], kit.REGULAR, 11, 60)  # a narrow box
    assert any("02\u00a0800\u00a000\u00a005" in line for line in lines)


def test_the_kit_command_warns_where_the_deployer_must_act(tmp_path, capsys):
    base = next(c for c in SHIPPED["campaigns"] if c["id"] == "fr")
    no_helplines = {**copy.deepcopy(base), "kit": {}}
    german = {**copy.deepcopy(base), "id": "de", "number": "+4930000000", "language": "de-DE",
              "allowed_country_codes": ["49"],
              "voicemail": {"say": "Hallo, hinterlassen Sie eine Nachricht.",
                            "voice": "Polly.Vicki"}}
    del german["kit"]
    retired = {**copy.deepcopy(base), "id": "old",
               "numbers": [{"number": "+33939000077", "label": "old", "status": "retired"}]}
    del retired["number"]
    path = tmp_path / "campaigns.json"
    path.write_text(json.dumps(document(no_helplines) | {
        "campaigns": [no_helplines, german, retired]}, ensure_ascii=False), encoding="utf-8")
    assert kit.main(["--campaigns", str(path), "--out", str(tmp_path / "out")]) == 0
    out, err = capsys.readouterr()
    assert out.split()[:2] == ["fr", "main"]
    assert "campaign 'fr': field 'kit.helplines' is empty" in err
    assert "campaign 'de': no kit texts for de-DE" in err
    assert "campaign 'old': every number is retired" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "fr-main-cards.pdf", "fr-main-poster.pdf", "fr-main-staff.pdf"]


def test_the_kit_command_names_an_unknown_campaign(tmp_path, capsys):
    assert kit.main(["--campaign", "nope", "--out", str(tmp_path)]) == 1
    assert capsys.readouterr().err == "kit: campaign 'nope' is not in the campaigns file\n"


def test_the_kit_writes_the_same_bytes_twice(tmp_path):
    campaign = CAMPAIGNS.by_id("nl-be")
    first = kit.write_number(campaign, campaign.numbers[0], tmp_path / "a", DELAY)
    second = kit.write_number(campaign, campaign.numbers[0], tmp_path / "b", DELAY)
    assert list(kit.pdf_digests(first.files).values()) == \
        list(kit.pdf_digests(second.files).values())


def test_the_docs_pages_show_the_pdfs_the_kit_writes_now(shipped_kit):
    """docs/kit/*.png are renderings of today's PDFs: `make docs` when this fails."""
    index = (ROOT / "docs" / "kit" / kit.PAGES_INDEX).read_text(encoding="utf-8")
    listed = dict(line.split() for line in index.splitlines() if not line.startswith("#"))
    files = [shipped_kit["out"] / f"{c}-{label}-{kind}.pdf" for c, label, kind in kit.SHOWN]
    now = {Path(name).with_suffix(".png").name: digest
           for name, digest in kit.pdf_digests(files).items()}
    assert listed == now, "docs/kit pages are stale: run `make docs`"
    for png in listed:
        assert (ROOT / "docs" / "kit" / png).stat().st_size > 10_000
        assert f"(kit/{png})" in (ROOT / "docs" / "kit.md").read_text(encoding="utf-8")


def test_the_kit_libraries_stay_out_of_the_lambda_package():
    shipped = "".join(p.read_text(encoding="utf-8").lower() for p in
                      [ROOT / "requirements.txt", *(ROOT / "functions").glob("*/requirements.txt")])
    for package in ("reportlab", "segno", "phonenumbers", "pypdf", "zxing"):
        assert package not in shipped
    run_lock = (ROOT / "locks" / "run.txt").read_text(encoding="utf-8")
    assert all(f"\n{p}==" in run_lock for p in ("reportlab", "segno", "phonenumberslite"))
    for module in (ROOT / "functions").rglob("*.py"):
        assert "reportlab" not in module.read_text(encoding="utf-8"), module


def test_every_kit_field_is_documented():
    doc = (ROOT / "docs" / "kit.md").read_text(encoding="utf-8")
    for name in KIT_FIELDS:
        assert f"`{name}`" in doc, name
