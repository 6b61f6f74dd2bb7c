"""docs/glossary.json: the words the console and the venue kit share; the console keeps to it."""

from __future__ import annotations

import json
import re

from conftest import ROOT

from decoy_local.console import strings

GLOSSARY = json.loads((ROOT / "docs" / "glossary.json").read_text(encoding="utf-8"))


def test_every_entry_names_its_words_in_both_languages():
    for term in GLOSSARY["terms"]:
        assert term["fr"] and term["en"] and term["idea"], term
        assert set(term) == {"idea", "fr", "en", "avoid_fr", "avoid_en"}, term


def test_the_console_uses_no_word_the_glossary_avoids():
    for lang in ("en", "fr"):
        text = " ".join(strings(lang).values()).lower()
        avoided = [w for t in GLOSSARY["terms"] for w in t[f"avoid_{lang}"]]
        for word in [*avoided, *GLOSSARY["never_on_the_page"]]:
            assert not re.search(rf"\b{re.escape(word.lower())}\b", text), (lang, word)


def test_french_strings_never_break_a_line_before_a_colon():
    for key, value in strings("fr").items():
        assert not re.search(r"[ \u00a0][:;!?]", value), key
