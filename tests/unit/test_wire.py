"""The wire grammar: slugs and ids, datelines (docs/CONTRACT.md); and the text repair the page readers apply first.

``wirecrawler.portal.wire`` takes clean text, as the page readers give it: where a case starts from
text as a page shows it, it is cleaned first with ``clean_text`` (``wirecrawler.portal.text``).
"""

import hashlib

import pytest

from wirecrawler.portal.text import clean_text, repair
from wirecrawler.portal.wire import Dateline, dateline_doubt, parse_dateline, slugify, story_id

# A place name of 85 characters: places are of any length.
LONG_PLACE = "TAUMATAWHAKATANGIHANGAKOAUAUOTAMATEATURIPUKAKAPIKIMAUNGAHORONUKUPOKAIWHENUAKITANATAHU"


@pytest.mark.parametrize(
    ("headline", "slug"),
    [
        ("Aardbeving met kracht 6,1 voor kust van Japan", "aardbeving-met-kracht-61-voor-kust-van-japan"),
        ("H&M", "hm"),
        ("Zuid-Korea: al 3000 Noord-Koreaanse militairen naar Rusland", "zuid-korea-al-3000-noord-koreaanse-militairen-naar-rusland"),
        ("Israëlische krijgsmacht voert nieuwe aanvalsgolf uit op Teheran", "israelische-krijgsmacht-voert-nieuwe-aanvalsgolf-uit-op-teheran"),
        ("Israƫlische krijgsmacht", "israelische-krijgsmacht"),
        ("NASA: Artemis II op zijn vroegst 1 april de ruimte in", "nasa-artemis-ii-op-zijn-vroegst-1-april-de-ruimte-in"),
        ("‘Dit is geen oorlog’, zegt \"minister\" van 's-Hertogenbosch", "dit-is-geen-oorlog-zegt-minister-van-s-hertogenbosch"),
        ("  Veel   spaties -- en - streepjes  ", "veel-spaties-en-streepjes"),
        ("Genève, Caïro en Malmö", "geneve-cairo-en-malmo"),
        # Letters that do not decompose to a-z are deleted like punctuation, not transliterated.
        ("Straße in Łódź", "strae-in-odz"),
        ("Deense rederij Mærsk", "deense-rederij-mrsk"),
        ("Noorse premier Støre bezoekt Tromsø", "noorse-premier-stre-bezoekt-troms"),
        ("Đoković wint in Belgrado", "okovic-wint-in-belgrado"),
        ("Þingvellir trekt recordaantal toeristen", "ingvellir-trekt-recordaantal-toeristen"),
        ("Le cœur de l'Œuvre", "le-cur-de-luvre"),
        ("Aardbeving bij Diyarbakır", "aardbeving-bij-diyarbakr"),
        ("İstanbul", "istanbul"),  # İ lowers to i and a combining dot, which is dropped
        ("Ærø, Þórshöfn en Đakovo: œuvre van Kırşehir bij de Straße", "r-orshofn-en-akovo-uvre-van-krsehir-bij-de-strae"),
        ("Æ ø - Þ ß", ""),  # nothing left, and no hyphen where the letters were
        ("Ø - Oslo", "oslo"),
        ("Straßenbahn ßß in Graz", "straenbahn-in-graz"),
    ],
)
def test_slug_rule(headline, slug):
    assert slugify(clean_text(headline)) == slug
    if clean_text(headline) == headline:
        assert slugify(headline) == slug


def test_id_is_32_hex_of_sha256_over_the_slug():
    headline = "Zuid-Korea: al 3000 Noord-Koreaanse militairen naar Rusland"
    assert story_id(headline) == "76cbec0cf7e62682715fbb37775e517a"
    assert story_id(headline) == hashlib.sha256(slugify(headline).encode()).hexdigest()[:32]


def test_a_letter_that_does_not_decompose_is_deleted_from_the_id_too():
    assert story_id("Straße in Łódź") == hashlib.sha256(b"strae-in-odz").hexdigest()[:32]
    assert story_id("Straße in Łódź") != story_id("Strasse in Lodz")


def test_id_of_a_damaged_headline_equals_the_repaired_one():
    assert story_id(clean_text("Israƫlische krijgsmacht")) == story_id("Israëlische krijgsmacht")


def test_repair_and_whitespace():
    assert repair("Israƫl") == "Israël"
    assert clean_text("  De  \n\t Israƫlische\u00a0krijgsmacht ") == "De Israëlische krijgsmacht"
    assert clean_text("“Quotes” and \"quotes\" – kept") == "“Quotes” and \"quotes\" – kept"


@pytest.mark.parametrize(
    ("text", "places", "agencies", "rest"),
    [
        ("SEOUL (ANP) - Noord-Korea heeft", ["SEOUL"], ["ANP"], "Noord-Korea heeft"),
        ("WASHINGTON/OTTAWA (ANP/AFP) - De", ["WASHINGTON", "OTTAWA"], ["ANP", "AFP"], "De"),
        ("PARIJS/BERLIJN/ROME (ANP) - Drie", ["PARIJS", "BERLIJN", "ROME"], ["ANP"], "Drie"),
        ("WEST BLOOMFIELD (ANP) - De man", ["WEST BLOOMFIELD"], ["ANP"], "De man"),
        ("BANDAR SERI BEGAWAN (ANP/AFP) - Het", ["BANDAR SERI BEGAWAN"], ["ANP", "AFP"], "Het"),
        ("GENÈVE (ANP/RTR) - De VN", ["GENÈVE"], ["ANP", "RTR"], "De VN"),
        ("CAÏRO (ANP) - Egypte", ["CAÏRO"], ["ANP"], "Egypte"),
        ("MALMÖ (ANP/TT) - Zweden", ["MALMÖ"], ["ANP", "TT"], "Zweden"),
        ("PORT-AU-PRINCE (ANP/AFP) - Haïti", ["PORT-AU-PRINCE"], ["ANP", "AFP"], "Haïti"),
        ("WARSCHAU (ANP/BLOOMBERG/RTR) - De", ["WARSCHAU"], ["ANP", "BLOOMBERG", "RTR"], "De"),
        ("BRUSSEL (ANP/DPA/AFP/RTR) - Vier", ["BRUSSEL"], ["ANP", "DPA", "AFP", "RTR"], "Vier"),
        ("MADRID (AFP/DPA) - Andere volgorde", ["MADRID"], ["AFP", "DPA"], "Andere volgorde"),
        ("LISSABON (ANP/AF) - Een typfout", ["LISSABON"], ["ANP", "AF"], "Een typfout"),
        ("VLISSINGEN - De veerboot", ["VLISSINGEN"], [], "De veerboot"),
        ("ST. LOUIS (ANP) - Een stad met een punt", ["ST. LOUIS"], ["ANP"], "Een stad met een punt"),
        ("PARIJS (ANP/AFP) - Tekst met - een streepje", ["PARIJS"], ["ANP", "AFP"], "Tekst met - een streepje"),
        # Places of any length.
        (f"{LONG_PLACE} (ANP) - De heuvel", [LONG_PLACE], ["ANP"], "De heuvel"),
        (f"{LONG_PLACE}/WELLINGTON (ANP/AFP) - Twee", [LONG_PLACE, "WELLINGTON"], ["ANP", "AFP"], "Twee"),
        (f"{LONG_PLACE} - Een regionale", [LONG_PLACE], [], "Een regionale"),
        ("SANKT-PETERBURG EN LENINGRADSKAJA OBLAST ZUID (ANP) - Lang", ["SANKT-PETERBURG EN LENINGRADSKAJA OBLAST ZUID"], ["ANP"], "Lang"),
    ],
)
def test_datelines(text, places, agencies, rest):
    assert parse_dateline(text) == Dateline(places, agencies, rest)


@pytest.mark.parametrize(
    "text",
    [
        "Noord-Korea heeft - zegt de inlichtingendienst - meer troepen gestuurd.",
        "Na een storing van twee dagen vaart de veerboot weer.",
        "Parijs (ANP) - een plaats in kleine letters is geen dateline",
        "SEOUL (ANP)- geen spatie voor het streepje",
        "SEOUL (ANP) – een gedachtestreepje is geen dateline",
        "A/B/C/D (ANP) - vier plaatsen is er één te veel",
        "SEOUL (ANP/AFP/DPA/RTR/EFE) - vijf persbureaus is er één te veel",
        "SEOUL (anp) - persbureau in kleine letters",
        "2024 (ANP) - een jaartal is geen plaats",
        "",
    ],
)
def test_text_that_is_not_a_dateline_comes_back_whole(text):
    assert parse_dateline(text) == Dateline([], [], text)


def test_a_long_place_name_raises_no_doubt():
    assert len(LONG_PLACE) > 60
    assert dateline_doubt(f"{LONG_PLACE} (ANP) - De heuvel") is None


def test_dateline_text_is_cleaned_and_repaired():
    assert parse_dateline(clean_text("  TEHERAN   (ANP) -  De  Israƫlische ")) == Dateline(["TEHERAN"], ["ANP"], "De Israëlische")
