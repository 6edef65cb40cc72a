"""The project's sample site generator: a local model of zeelandnet.nl's Buitenland section.

usage: python -m testsites.sample OUTDIR [--variant base|new-stories|renamed-classes]

Writes OUTDIR/REF (the fixed HTTP ``Date``), OUTDIR/nieuws/*.html (listing pages, article
pages) and the expected feeds, the correct crawl output for the site:

- ``expected-feed.jsonl``: a crawl with the defaults (``max_pages=10``, ``max_age_hours=48``),
  which reads listing pages 1-3 (page 3 holds only stories older than 48 hours) and the article
  of every story listed there;
- ``expected-feed-full.jsonl``: a crawl with ``max_age_hours=100000 max_pages=50`` (page 4 too);
- ``expected-new.jsonl`` (variant ``new-stories`` only): the records a rerun with the seen store
  of a crawl of the base site must emit, i.e. the two new stories.

Variant ``renamed-classes`` renames the listing rows' classes and has no expected feed: a crawl
of it must fail.

The generator is self-contained (standard library only) and never imports ``wirecrawler``: the
expected feeds are an independent oracle. Every story is written out in STORIES below, with
its headline, URL slug, dateline, paragraphs, label and Net binnen time; where each one is
shown is in LISTING, NEWEST and NET_BINNEN. The expected times are computed here from the
labels with the contract's rules (docs/CONTRACT.md) (and checked by hand in tests/unit/test_sitegen.py).
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import json
import re
import sys
import unicodedata
from datetime import datetime, timedelta, timezone
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

REF = "Tue, 24 Nov 2026 23:20:00 GMT"
REF_UTC = datetime(2026, 11, 24, 23, 20, 0, tzinfo=timezone.utc)
HOST = "https://www.zeelandnet.nl"
AMS = ZoneInfo("Europe/Amsterdam")
VARIANTS = ("base", "new-stories", "renamed-classes")
FIELDS = ["id", "headline", "url", "section", "places", "agencies", "published_at",
          "published_precision", "published_label", "kind", "text"]

# Which listing pages each expected feed's crawl reads (the crawler's paging stops after
# the first page whose rows are all older than max_age_hours, or at max_pages).
CRAWLS = {
    "expected-feed.jsonl": [1, 2, 3],        # max_pages=10, max_age_hours=48
    "expected-feed-full.jsonl": [1, 2, 3, 4],  # max_pages=50, max_age_hours=100000
}

# --------------------------------------------------------------------------------------------
# Body blocks. A plain string is an ordinary paragraph (escaped on output; its text is the
# string itself). The first block of every story is a plain string: the lead paragraph, to
# which the dateline is prefixed; it is also the story's teaser in listings.
# --------------------------------------------------------------------------------------------
AD = ("ad",)          # inline <div class="ad-slot ad-slot--inline"> inside the body: not text
EMPTY = ("empty",)    # <p></p>: skipped


def raw(html: str, text: str) -> tuple:
    """A paragraph given as raw inner HTML, with its expected text written out by hand."""
    return ("raw", html, text)


def figure(src: str, caption: str) -> tuple:
    """A figure inside the body (the caption is not text)."""
    return ("figure", src, caption)


def related(html: str) -> tuple:
    """A <p class="article__related"> ("Lees ook: ..."): not text."""
    return ("related", html)


# --------------------------------------------------------------------------------------------
# The stories. section: Buitenland unless given. places/agencies: the dateline, written out
# ([] places: no dateline at all; places without agencies: a regional "PLACE - text").
# label: the relative time shown with the story in listing and "Meer uit" rows (None: no
# time shown). article: False when the story has no article page.
# --------------------------------------------------------------------------------------------
STORIES = [
    # ---- page 1 ---------------------------------------------------------------------------
    dict(
        key="s01",
        headline='Canadese premier: "Akkoord met VS & Mexico over staal binnen handbereik"',
        slug="canadese-premier-akkoord-met-vs-mexico-over-staal-binnen-handbereik",
        places=["WASHINGTON", "OTTAWA"], agencies=["ANP", "AFP"],
        label="45 seconden geleden",
        body=[
            'De Canadese premier verwacht dat zijn land, de Verenigde Staten en Mexico "binnen enkele dagen" een akkoord sluiten over de importheffingen op staal en aluminium. Dat zei hij dinsdagavond na afloop van een overleg in het Witte Huis.',
            'Volgens de premier zijn de drie landen het op "vrijwel alle punten" eens. Alleen over de quota voor aluminium wordt nog gepraat. Washington sprak eerder van ‘constructieve gesprekken’, maar wilde niet op details ingaan.',
            "De Amerikaanse heffingen van 25 procent treffen de Canadese staalindustrie hard. Duizenden banen in de provincie Ontario staan op het spel.",
        ],
    ),
    dict(
        key="s02",
        headline="Israƫl en Libanon hervatten gesprekken over grens",
        slug="isral-en-libanon-hervatten-gesprekken-over-grens",  # the site's slug of the unrepaired headline
        places=["JERUZALEM"], agencies=["ANP", "RTR"],
        label="1 minuut geleden",
        body=[
            "Israƫl en Libanon hervatten woensdag de gesprekken over de afbakening van hun gemeenschappelijke grens. Dat meldt het kantoor van de Israƫlische premier. De onderhandelingen vinden plaats onder leiding van Amerikaanse en Franse bemiddelaars.",
            "De gesprekken lagen sinds de zomer stil na beschietingen over en weer. Volgens diplomaten willen beide landen voor het einde van het jaar een akkoord over dertien betwiste punten langs de zogenoemde Blauwe Lijn.",
            'De VN-vredesmacht UNIFIL noemt de hervatting "een belangrijke stap". Israƫl houdt volgens het Libanese leger nog altijd vijf posities op Libanees grondgebied bezet.',
        ],
    ),
    dict(
        key="s03",
        headline="WHO waarschuwt voor snelle verspreiding mpox in Centraal-Afrika",
        slug="who-waarschuwt-voor-snelle-verspreiding-mpox-in-centraal-afrika",
        places=["GENÈVE"], agencies=["ANP", "RTR"],
        label="6 minuten geleden", net_binnen="0:13",
        body=[
            "De Wereldgezondheidsorganisatie (WHO) maakt zich grote zorgen over de snelle verspreiding van een nieuwe variant van mpox in Centraal-Afrika. Het aantal besmettingen is in een maand tijd verdubbeld, meldt de organisatie.",
            "Vooral in Congo-Kinshasa en Burundi loopt het aantal gevallen op. De WHO roept rijke landen op om meer vaccins beschikbaar te stellen.",
        ],
    ),
    dict(
        key="s04",
        headline="Asean-top in Brunei eindigt zonder slotverklaring",
        slug="asean-top-in-brunei-eindigt-zonder-slotverklaring",
        places=["BANDAR SERI BEGAWAN"], agencies=["ANP"],
        label="22 minuten geleden", net_binnen="23:58",
        body=[
            "De top van de Zuidoost-Aziatische samenwerkingsorganisatie Asean in Brunei is geëindigd zonder gezamenlijke slotverklaring. De lidstaten konden het niet eens worden over een passage over de Zuid-Chinese Zee.",
            "Het is voor het eerst in jaren dat de landen geen gezamenlijke verklaring uitgeven. Vooral de Filipijnen en Vietnam wilden harde taal richting China.",
        ],
    ),
    dict(
        key="s05",
        headline="Bendes in Haïti blokkeren opnieuw belangrijkste haven",
        slug="bendes-in-haiti-blokkeren-opnieuw-belangrijkste-haven",
        places=["PORT-AU-PRINCE"], agencies=["ANP", "AFP"],
        label="1 uur geleden", net_binnen="23:10",
        body=[
            "Gewapende bendes hebben de belangrijkste haven van Haïti opnieuw afgesloten. Schepen met voedsel en brandstof kunnen daardoor niet worden gelost, meldt de Haïtiaanse havenautoriteit.",
            figure("/media/bendes-in-haiti-blokkeren-opnieuw-belangrijkste-haven.jpg", "Foto: AFP"),
            raw("\n            De bendes controleren naar schatting  80 procent van\n            de hoofdstad Port-au-Prince.&nbsp;Hulporganisaties   waarschuwen voor een\tvoedseltekort.\n          ",
                "De bendes controleren naar schatting 80 procent van de hoofdstad Port-au-Prince. Hulporganisaties waarschuwen voor een voedseltekort."),
            EMPTY,
            "Een internationale politiemissie onder leiding van Kenia probeert de haven sinds september te heroveren. Volgens de VN zijn dit jaar al meer dan vierduizend mensen omgekomen bij bendegeweld.",
        ],
    ),
    dict(
        key="s06",
        headline="Frankrijk en Duitsland willen gezamenlijke EU-lening voor defensie",
        slug="frankrijk-en-duitsland-willen-gezamenlijke-eu-lening-voor-defensie",
        places=["BRUSSEL", "PARIJS", "BERLIJN"], agencies=["ANP", "DPA", "AFP", "RTR"],
        label="3 uur geleden", net_binnen="21:02",
        figure=("/media/frankrijk-en-duitsland-willen-gezamenlijke-eu-lening-voor-defensie.jpg", "Foto: ANP"),
        body=[
            "Frankrijk en Duitsland willen dat de Europese Unie gezamenlijk geld leent om de defensie-uitgaven van de lidstaten te financieren. Dat staat in een voorstel dat de twee landen dinsdag naar Brussel hebben gestuurd.",
            raw('Het gaat volgens <strong>de Franse minister van Financiën</strong> om een fonds van &quot;minstens 150 miljard euro&quot;. De <a href="https://commission.europa.eu/">Europese Commissie</a> zou de leningen namens de lidstaten moeten aangaan.',
                'Het gaat volgens de Franse minister van Financiën om een fonds van "minstens 150 miljard euro". De Europese Commissie zou de leningen namens de lidstaten moeten aangaan.'),
            AD,
            "Kritiek",
            "Nederland en Oostenrijk zijn tegen gezamenlijke schulden. Zij vinden dat lidstaten hun defensie zelf moeten betalen. Het voorstel wordt donderdag besproken door de Europese regeringsleiders.",
            related('Lees ook: <a href="/nieuws/finland-bouwt-hek-langs-grens-met-rusland-verder-uit">Finland bouwt hek langs grens met Rusland verder uit</a>'),
        ],
    ),
    dict(
        key="s07",
        headline="Knokke-Heist verbiedt deelsteps op de zeedijk",
        slug="knokke-heist-verbiedt-deelsteps-op-de-zeedijk",
        places=["KNOKKE-HEIST"], agencies=[],
        label=None,
        body=[
            "Wie volgend jaar over de zeedijk van Knokke-Heist wil rijden, moet dat niet met een deelstep doen. De gemeenteraad heeft maandagavond besloten de elektrische steps vanaf 1 maart te weren van de dijk.",
            "Volgens de burgemeester zorgden de steps afgelopen zomer voor gevaarlijke situaties met wandelaars. Ook Zeeuwse dagjesmensen die met de step van de bus naar het strand gingen, moeten een andere oplossing zoeken.",
        ],
    ),
    dict(
        key="s08",
        headline="Egypte presenteert nieuw vredesplan voor Sudan",
        slug="egypte-presenteert-nieuw-vredesplan-voor-sudan",
        places=["CAÏRO"], agencies=["ANP", "AF"],
        label="5 uur geleden",
        body=[
            "Egypte heeft een nieuw plan gepresenteerd om een einde te maken aan de oorlog in buurland Sudan. Het plan voorziet in een wapenstilstand van drie maanden en een corridor voor hulpgoederen, meldt het Egyptische ministerie van Buitenlandse Zaken.",
            "Het Sudanese leger en de paramilitaire RSF hebben nog niet gereageerd. Eerdere bemiddelingspogingen van de Verenigde Staten en Saoedi-Arabië liepen op niets uit.",
        ],
    ),
    dict(
        key="s09",
        headline="Paus roept op tot ‘wapenstilstand met Kerstmis’",
        slug="paus-roept-op-tot-wapenstilstand-met-kerstmis",
        places=[], agencies=[],
        label="9 uur geleden",
        body=[
            'De paus heeft alle strijdende partijen in de wereld opgeroepen de wapens met Kerstmis te laten zwijgen. "Laat het in elk geval op die ene dag stil zijn", zei hij dinsdag tijdens de wekelijkse audiëntie op het Sint-Pietersplein.',
            "Hij noemde daarbij onder meer Oekraïne, Sudan en het Midden-Oosten. Het Vaticaan biedt al langer aan te bemiddelen in conflicten.",
        ],
    ),
    dict(
        key="s10",
        headline="Drie verdachten opgepakt na explosie bij flatgebouw in Malmö",
        slug="drie-verdachten-opgepakt-na-explosie-bij-flatgebouw-in-malmo",
        places=["MALMÖ"], agencies=["ANP", "TT"],
        label="13 uur geleden",  # page 2 shows it again as "14 uur geleden" (see LISTING)
        body=[
            "De Zweedse politie heeft drie verdachten aangehouden na een explosie bij een flatgebouw in Malmö. Bij de ontploffing in de nacht van maandag op dinsdag raakte niemand gewond, maar de gevel en tientallen ramen werden zwaar beschadigd.",
            "De politie vermoedt dat de explosie verband houdt met een conflict tussen criminele netwerken. Zweden kampt al jaren met een golf van schietpartijen en aanslagen met explosieven.",
        ],
    ),
    dict(
        key="mno",  # only in the "Meer uit Buitenland" lists: no listing row, no article page
        headline="Japanse centrale bank verhoogt rente naar hoogste niveau in dertig jaar",
        slug="japanse-centrale-bank-verhoogt-rente-naar-hoogste-niveau-in-dertig-jaar",
        places=["TOKIO"], agencies=["ANP", "BLOOMBERG", "RTR"],
        label="2 uur geleden", article=False,
        body=[
            "De Japanse centrale bank verhoogt de rente met een kwart procentpunt naar 1 procent. Dat is het hoogste niveau in dertig jaar. De bank wil daarmee de hardnekkige inflatie in het land beteugelen.",
        ],
    ),
    # ---- page 2 ---------------------------------------------------------------------------
    dict(
        key="s11",
        headline="Noord-Korea vuurt opnieuw ballistische raket af",
        slug="noord-korea-vuurt-opnieuw-ballistische-raket-af",
        places=[], agencies=[],  # "Noord-Korea heeft - zegt ..." is no dateline
        label="16 uur geleden",
        body=[
            "Noord-Korea heeft - zegt de Zuid-Koreaanse legerleiding - dinsdagochtend opnieuw een ballistische raket afgevuurd. De raket kwam na een vlucht van ongeveer 400 kilometer neer in zee, buiten de Japanse economische zone.",
            'Het is de derde lancering in een maand. Zuid-Korea, Japan en de Verenigde Staten veroordelen de test en spreken van een "ernstige provocatie".',
        ],
    ),
    dict(
        key="s12",
        headline="Aardbeving in Oost-Turkije, tientallen gewonden",
        slug="aardbeving-in-oost-turkije-tientallen-gewonden-ANP241124042",
        places=["ANKARA"], agencies=["ANP", "RTR"],
        label="19 uur geleden",
        body=[
            "Bij een aardbeving met een kracht van 5,8 in het oosten van Turkije zijn zeker veertig mensen gewond geraakt. Het epicentrum lag volgens de Turkse rampenbestrijdingsdienst AFAD bij de stad Malatya.",
            "Tientallen gebouwen liepen schade op. Reddingswerkers zoeken in de puinhopen van twee ingestorte huizen naar mogelijke slachtoffers.",
        ],
    ),
    dict(
        key="s13",
        headline="Italiaanse coalitie in crisis: 'Geen meerderheid meer voor begroting'",
        slug="italiaanse-coalitie-in-crisis-geen-meerderheid-meer-voor-begroting",
        places=["ROME"], agencies=["ANP"],
        label="23 uur geleden",
        body=[
            "De Italiaanse regeringscoalitie is in een crisis beland nadat een van de drie partijen heeft aangekondigd niet in te stemmen met de begroting voor volgend jaar. 'Zo heeft de regering geen meerderheid meer', zei de fractieleider van de partij in de Senaat.",
            "De premier wil woensdag met de coalitiepartners praten. Als er geen oplossing komt, dreigen vervroegde verkiezingen in het voorjaar.",
        ],
    ),
    dict(
        key="s14",
        headline="Duitsland schrapt subsidie voor elektrische auto's opnieuw",
        slug="duitsland-schrapt-subsidie-voor-elektrische-autos-opnieuw",
        places=["BERLIJN"], agencies=["AFP", "DPA"],
        label="1 dag geleden",
        body=[
            "De Duitse regering stopt per 1 januari met de subsidie voor de aankoop van elektrische auto's. Dat heeft het ministerie van Economische Zaken bekendgemaakt. De regeling werd pas dit jaar opnieuw ingevoerd.",
            "Autofabrikanten en milieuorganisaties reageren teleurgesteld. Zij vrezen dat de verkoop van elektrische auto's in Duitsland opnieuw zal inzakken.",
        ],
    ),
    dict(
        key="s15",
        headline="Amerikaanse Senaat stemt in met noodbudget",
        slug="amerikaanse-senaat-stemt-in-met-noodbudget",
        places=["WASHINGTON"], agencies=["ANP"],
        label="1 dag geleden",
        body=[
            "De Amerikaanse Senaat heeft ingestemd met een noodbudget dat de federale overheid tot eind januari draaiende houdt. Daarmee is een gedeeltelijke sluiting van de overheid voorlopig afgewend.",
            "Het Huis van Afgevaardigden moet het budget nog goedkeuren. Dat gebeurt naar verwachting woensdag.",
        ],
    ),
    dict(
        key="s16",
        headline="Droogte in Oost-Afrika treft miljoenen mensen",
        slug="droogte-in-oost-afrika-treft-miljoenen-mensen",
        places=["NAIROBI"], agencies=["ANP", "AFP"],
        label="2 dagen geleden",
        body=[
            "In Kenia, Somalië en Ethiopië hebben miljoenen mensen te weinig te eten door aanhoudende droogte. Dat meldt het Wereldvoedselprogramma (WFP) van de Verenigde Naties.",
            "Voor het derde regenseizoen op rij is er veel minder regen gevallen dan normaal. Het WFP vraagt donorlanden om 400 miljoen dollar extra.",
        ],
    ),
    dict(
        key="s17",
        headline="Spanje trekt miljarden uit voor herstel na noodweer",
        slug="spanje-trekt-miljarden-uit-voor-herstel-na-noodweer",
        places=["MADRID"], agencies=["ANP", "EFE"],
        label="2 dagen geleden",
        body=[
            "De Spaanse regering trekt 3 miljard euro uit voor het herstel van de schade na het noodweer in het oosten van het land. Dat heeft de premier maandag aangekondigd.",
            "Vorige week viel in de regio Valencia op sommige plaatsen in een paar uur meer dan 300 millimeter regen. Wegen, bruggen en duizenden woningen raakten beschadigd.",
        ],
    ),
    dict(
        key="s18",
        headline="Deens parlement stemt in met pensioenleeftijd van 70",
        slug="deens-parlement-stemt-in-met-pensioenleeftijd-van-70",
        places=["KOPENHAGEN"], agencies=["ANP", "RTR"],
        label="3 dagen geleden",
        body=[
            "Het Deense parlement heeft ingestemd met het verhogen van de pensioenleeftijd naar 70 jaar. Denemarken krijgt daarmee de hoogste pensioenleeftijd van Europa. De verhoging gaat in 2040 in.",
            "Vakbonden protesteerden de afgelopen weken tegen het plan. Volgens de regering is de verhoging nodig omdat Denen steeds langer leven.",
        ],
    ),
    dict(
        key="s19",
        headline="Argentinië schaft tientallen importheffingen af",
        slug="argentinie-schaft-tientallen-importheffingen-af",
        places=["BUENOS AIRES"], agencies=["ANP", "AFP"],
        label="4 dagen geleden",
        body=[
            "Argentinië schaft de importheffingen op ruim zeshonderd producten af, waaronder elektronica en kleding. De regering wil daarmee de prijzen in het land omlaag krijgen.",
            "De Argentijnse industrie is kritisch. Volgens werkgevers komen duizenden banen in gevaar door goedkope import uit Azië.",
        ],
    ),
    # ---- page 3: older than 48 hours ------------------------------------------------------
    dict(
        key="s20",
        headline="Polen kiest locatie voor tweede kerncentrale",
        slug="polen-kiest-locatie-voor-tweede-kerncentrale",
        places=["WARSCHAU"], agencies=["ANP", "PAP"],
        label="1 week geleden",
        body=[
            "De Poolse regering heeft de locatie gekozen voor de tweede kerncentrale van het land. De centrale komt in het midden van Polen, bij de stad Bełchatów, waar nu nog een grote bruinkoolcentrale staat.",
            "De eerste Poolse kerncentrale wordt gebouwd aan de Oostzeekust en moet in 2036 stroom leveren.",
        ],
    ),
    dict(
        key="s21",
        headline="Staking legt Griekse veerdiensten 24 uur stil",
        slug="staking-legt-griekse-veerdiensten-24-uur-stil",
        places=["ATHENE"], agencies=["ANP", "RTR"],
        label="2 weken geleden",
        body=[
            "In Griekenland varen woensdag 24 uur lang geen veerboten. Zeelieden staken uit protest tegen nieuwe regels voor werktijden. Ook toeristen op de eilanden hebben last van de actie.",
            "De vakbond van zeelieden eist dat bemanningen na twaalf uur werk verplicht rust krijgen.",
        ],
    ),
    dict(
        key="s22",
        headline="Portugal heeft nieuwe minderheidsregering",
        slug="portugal-heeft-nieuwe-minderheidsregering",
        places=["LISSABON"], agencies=["ANP"],
        label="3 weken geleden",
        body=[
            "In Portugal is een nieuwe minderheidsregering beëdigd. De centrumrechtse premier is afhankelijk van steun van de socialistische oppositie voor het aannemen van wetten.",
            "Het is de derde regering in twee jaar. De vorige regering viel na een integriteitsaffaire rond de premier.",
        ],
    ),
    dict(
        key="s23",
        headline="Ierse economie groeit harder dan verwacht",
        slug="ierse-economie-groeit-harder-dan-verwacht",
        places=["DUBLIN"], agencies=["ANP", "RTR"],
        label="4 weken geleden",
        body=[
            "De Ierse economie is in het derde kwartaal met 3,2 procent gegroeid ten opzichte van het kwartaal ervoor. Dat is veel meer dan economen hadden verwacht.",
            "De groei komt vooral door de export van medicijnen naar de Verenigde Staten. Amerikaanse farmaceuten voerden hun productie in Ierland op uit vrees voor importheffingen.",
        ],
    ),
    dict(
        key="s24",
        headline="Oostenrijk scherpt regels voor gezinshereniging aan",
        slug="oostenrijk-scherpt-regels-voor-gezinshereniging-aan",
        places=["WENEN"], agencies=["ANP", "APA"],
        label="1 maand geleden",  # 24 Oct 23:20 UTC: still summer time in Amsterdam (+02:00)
        body=[
            "Oostenrijk maakt het moeilijker voor erkende vluchtelingen om hun gezin te laten overkomen. Het parlement heeft ingestemd met strengere eisen voor inkomen en huisvesting.",
            "Mensenrechtenorganisaties noemen de nieuwe regels in strijd met Europese afspraken. Zij willen naar de rechter stappen.",
        ],
    ),
    dict(
        key="s25",
        headline="Vulkaan op IJsland opnieuw uitgebarsten",
        slug="vulkaan-op-ijsland-opnieuw-uitgebarsten",
        places=["REYKJAVIK"], agencies=["ANP"],
        label="2 maanden geleden",
        body=[
            "Op het Reykjanes-schiereiland in het zuidwesten van IJsland is opnieuw een vulkaan uitgebarsten. Het vissersdorp Grindavík en het nabijgelegen kuuroord de Blue Lagoon zijn uit voorzorg ontruimd.",
            "Het is de tiende uitbarsting in het gebied sinds eind 2023. Het vliegverkeer van en naar IJsland ondervindt geen hinder.",
        ],
    ),
    dict(
        key="s26",
        headline="Thailand stelt toeristenbelasting opnieuw uit",
        slug="thailand-stelt-toeristenbelasting-opnieuw-uit",
        places=["BANGKOK"], agencies=["ANP", "RTR"],
        label="3 maanden geleden",
        body=[
            "Thailand stelt de invoering van een toeristenbelasting voor buitenlandse bezoekers opnieuw uit. Reizigers die per vliegtuig aankomen, zouden 300 baht moeten betalen, omgerekend zo'n 8 euro.",
            "De regering wil eerst het herstel van het toerisme afwachten. Het aantal bezoekers ligt nog altijd onder het niveau van voor de coronapandemie.",
        ],
    ),
    dict(
        key="s27",
        headline="Mexico-Stad kampt met ernstig watertekort",
        slug="mexico-stad-kampt-met-ernstig-watertekort",
        places=["MEXICO-STAD"], agencies=["ANP", "AFP"],
        label="4 maanden geleden",
        body=[
            "In Mexico-Stad zitten honderdduizenden huishoudens zonder stromend water. De belangrijkste stuwmeren die de miljoenenstad van water voorzien, zijn door aanhoudende droogte voor minder dan een derde gevuld.",
            "Het stadsbestuur zet tankwagens in. In sommige wijken wordt water op rantsoen verdeeld.",
        ],
    ),
    dict(
        key="s28",
        headline="Australië breidt verbod op sociale media voor tieners uit",
        slug="australie-breidt-verbod-op-sociale-media-voor-tieners-uit",
        places=["CANBERRA"], agencies=["ANP"],
        label="5 maanden geleden",
        body=[
            "Australië breidt het verbod op sociale media voor jongeren onder de 16 jaar uit naar meer platforms. Ook videodiensten en berichtenapps moeten voortaan de leeftijd van gebruikers controleren.",
            "Bedrijven die zich niet aan de regels houden, riskeren boetes tot 50 miljoen Australische dollar.",
        ],
    ),
    dict(
        key="s29",
        headline="Finland bouwt hek langs grens met Rusland verder uit",
        slug="finland-bouwt-hek-langs-grens-met-rusland-verder-uit",
        places=["HELSINKI"], agencies=["ANP", "STT"],
        label="6 maanden geleden",
        body=[
            "Finland verlengt het hek langs de grens met Rusland met nog eens 70 kilometer. Dat maakt de Finse grenswacht bekend. Het hek moet voorkomen dat Rusland migranten naar de grens stuurt.",
            "De grens tussen beide landen is al sinds eind 2023 gesloten. In totaal moet er over ruim 200 kilometer een hek komen.",
        ],
    ),
    # ---- page 4: only a crawl with a large max_age_hours reaches it -------------------------
    dict(
        key="s30",
        headline="Noorwegen stopt met nieuwe vergunningen voor olieboringen",
        slug="noorwegen-stopt-met-nieuwe-vergunningen-voor-olieboringen",
        places=["OSLO"], agencies=["ANP", "NTB"],
        label="7 maanden geleden",
        body=[
            "Noorwegen geeft de komende vier jaar geen nieuwe vergunningen meer af voor het zoeken naar olie en gas in onontgonnen gebieden. Dat heeft de Noorse regering besloten.",
            "Bestaande velden mogen wel verder worden ontwikkeld. Milieuorganisaties vinden dat het besluit niet ver genoeg gaat.",
        ],
    ),
    dict(
        key="s31",
        headline="Oekraïne en Polen leggen graanconflict bij",
        slug="oekraine-en-polen-leggen-graanconflict-bij",
        places=["KYIV"], agencies=["ANP", "RTR"],
        label="9 maanden geleden",
        body=[
            "Oekraïne en Polen hebben een akkoord bereikt over de invoer van Oekraïens graan. Poolse boeren blokkeerden maandenlang grensovergangen uit protest tegen goedkoop graan uit het buurland.",
            "Volgens het akkoord gaat een deel van het graan via Poolse havens door naar landen buiten de EU.",
        ],
    ),
    dict(
        key="s32",
        headline="Zwitsers stemmen tegen langere vakantie",
        slug="zwitsers-stemmen-tegen-langere-vakantie",
        places=["BERN"], agencies=["ANP", "SDA"],
        label="11 maanden geleden",
        body=[
            "De Zwitsers hebben in een referendum een voorstel voor zes weken vakantie per jaar verworpen. Bijna twee derde van de kiezers stemde tegen.",
            "Werkgevers waarschuwden dat extra vrije dagen de Zwitserse economie miljarden zouden kosten.",
        ],
    ),
    dict(
        key="s33",
        headline="Smog in New Delhi bereikt recordhoogte",
        slug="smog-in-new-delhi-bereikt-recordhoogte",
        places=["NEW DELHI"], agencies=["ANP", "AFP"],
        label="1 jaar geleden",
        body=[
            "De luchtvervuiling in de Indiase hoofdstad New Delhi heeft een recordhoogte bereikt. Scholen gaan een week dicht en bouwwerkzaamheden zijn stilgelegd.",
            "Volgens artsen zitten de ziekenhuizen vol met mensen met ademhalingsklachten. De smog ontstaat vooral door het verbranden van oogstresten in de omliggende deelstaten.",
        ],
    ),
    dict(
        key="s34",
        headline="Roemenië opent langste brug over de Donau",
        slug="roemenie-opent-langste-brug-over-de-donau",
        places=["BOEKAREST"], agencies=["ANP", "RTR"],
        label="1 jaar geleden",
        body=[
            "In het oosten van Roemenië is de langste hangbrug over de Donau geopend. De brug bij Brăila is bijna twee kilometer lang en verbindt de Donaudelta met de rest van het land.",
            "Tot nu toe waren automobilisten aangewezen op een veerpont. De bouw van de brug kostte ruim 400 miljoen euro en werd grotendeels betaald door de Europese Unie.",
        ],
    ),
    dict(
        key="s35",
        headline="Londense metro rijdt voortaan ook 's nachts op meer lijnen",
        slug="londense-metro-rijdt-voortaan-ook-s-nachts-op-meer-lijnen",
        places=["LONDEN"], agencies=["ANP"],
        label="2 jaar geleden",
        body=[
            "De metro in Londen rijdt voortaan in de nacht van vrijdag op zaterdag op meer lijnen. Vervoersbedrijf TfL breidt de nachtdienst uit naar de Northern Line en de Piccadilly Line.",
            "Het vervoersbedrijf verwacht dat het uitgaansleven in de stad ervan profiteert.",
        ],
    ),
    dict(
        key="s36",
        headline="Chili opent grootste zonnepark van Zuid-Amerika",
        slug="chili-opent-grootste-zonnepark-van-zuid-amerika",
        places=["SANTIAGO"], agencies=["ANP", "EFE"],
        label="3 jaar geleden",
        body=[
            "In de Atacamawoestijn in het noorden van Chili is het grootste zonnepark van Zuid-Amerika in gebruik genomen. Het park kan stroom leveren aan ruim een miljoen huishoudens.",
            "Chili wil in 2040 geen stroom meer opwekken met kolen.",
        ],
    ),
    dict(
        key="s37",
        headline="Nieuw-Zeeland wil sigaretten verbieden voor nieuwe generaties",
        slug="nieuw-zeeland-wil-sigaretten-verbieden-voor-nieuwe-generaties",
        places=["WELLINGTON"], agencies=["ANP"],
        label="5 jaar geleden",
        body=[
            "Nieuw-Zeeland wil dat jongeren die na 2008 zijn geboren nooit legaal sigaretten kunnen kopen. De regering heeft een wetsvoorstel ingediend dat de leeftijdsgrens voor tabak elk jaar met een jaar verhoogt.",
            "Het land wil in 2025 vrijwel rookvrij zijn.",
        ],
    ),
    # ---- variant new-stories: two stories at the top of page 1 ------------------------------
    dict(
        key="n01",
        headline="Zware aardbeving met kracht 6,2 treft kust van Peru",
        slug="zware-aardbeving-met-kracht-62-treft-kust-van-peru",
        places=["LIMA"], agencies=["ANP", "EFE"],
        label="12 seconden geleden", net_binnen="0:19",
        body=[
            "Voor de kust van Peru heeft zich een aardbeving met een kracht van 6,2 voorgedaan. Dat meldt het Amerikaanse geologische instituut USGS. Het epicentrum lag op zo'n 80 kilometer van de havenstad Chimbote.",
            "Er is geen tsunamiwaarschuwing afgegeven. Over schade of slachtoffers is nog niets bekend.",
        ],
    ),
    dict(
        key="n02",
        headline="Zuid-Korea en Japan gaan gegevens over raketten delen",
        slug="zuid-korea-en-japan-gaan-gegevens-over-raketten-delen",
        places=["SEOUL"], agencies=["ANP", "YONHAP"],
        label="30 seconden geleden",
        body=[
            "Zuid-Korea en Japan gaan direct gegevens delen over raketlanceringen door Noord-Korea. Dat hebben de ministers van Defensie van beide landen woensdag in Seoul afgesproken.",
            "De afspraak volgt op een reeks rakettests door Noord-Korea. Ook de Verenigde Staten sluiten aan bij het systeem.",
        ],
    ),
    # ---- other sections: in Net binnen only; never requested nor emitted ---------------------
    dict(
        key="o-zeeland", section="Zeeland",
        headline="Grote brand in loods op bedrijventerrein in Terneuzen",
        slug="grote-brand-in-loods-op-bedrijventerrein-in-terneuzen",
        places=["TERNEUZEN"], agencies=[],
        label=None,
        body=[
            "Op een bedrijventerrein in Terneuzen is dinsdagavond een grote brand uitgebroken in een loods. De brandweer schaalde op naar middelbrand. Er raakte niemand gewond.",
        ],
    ),
    dict(
        key="o-financieel", section="Financieel",
        headline="Beurs in Tokio opent lager na rentebesluit",
        slug="beurs-in-tokio-opent-lager-na-rentebesluit",
        places=["TOKIO"], agencies=["ANP"],
        label=None,
        body=[
            "De beurs in Tokio is woensdag lager geopend. Beleggers reageerden op het besluit van de Japanse centrale bank om de rente te verhogen.",
        ],
    ),
    dict(
        key="o-sport", section="Sport",
        headline="Wielrenner uit Goes tekent bij WorldTour-ploeg",
        slug="wielrenner-uit-goes-tekent-bij-worldtour-ploeg",
        places=["GOES"], agencies=[],
        label=None,
        body=[
            "Een 21-jarige wielrenner uit Goes heeft een contract voor twee jaar getekend bij een ploeg uit de WorldTour. Dat heeft de ploeg dinsdagavond bekendgemaakt.",
        ],
    ),
    dict(
        key="o-binnenland", section="Binnenland",
        headline="Kabinet wil strengere regels voor flitsbezorgers",
        slug="kabinet-wil-strengere-regels-voor-flitsbezorgers",
        places=["DEN HAAG"], agencies=["ANP"],
        label=None,
        body=[
            "Het kabinet wil dat gemeenten meer mogelijkheden krijgen om flitsbezorgers uit woonwijken te weren. Dat schrijft de minister in een brief aan de Tweede Kamer.",
        ],
    ),
]

# Listing pages: story keys in row order, "AD" for an advertisement row, (key, label) for a
# row whose label differs from the story's own (the listing shifted while paging).
LISTING = {
    1: ["s01", "s02", "s03", "s04", "s05", "AD", "s06", "s07", "s08", "s09", "s10", "AD"],
    2: [("s10", "14 uur geleden"), "s11", "s12", "s13", "s14", "AD", "s15", "s16", "s17", "s18", "s19", "AD"],
    3: ["s20", "s21", "s22", "s23", "s24", "AD", "s25", "s26", "s27", "s28", "s29", "AD"],
    4: ["s30", "s31", "s32", "s33", "AD", "s34", "s35", "s36", "s37", "AD"],
}
NEW_ON_TOP = ["n01", "n02"]  # variant new-stories: prepended to page 1 and to NEWEST

# Buitenland stories newest first: "Meer uit Buitenland" on an article lists the first seven
# of these other than the article itself.
NEWEST = ["s01", "s02", "s03", "s04", "s05", "mno", "s06", "s07", "s08", "s09", "s10",
          "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22",
          "s23", "s24", "s25", "s26", "s27", "s28", "s29", "s30", "s31", "s32", "s33", "s34",
          "s35", "s36", "s37"]

# Net binnen (the 8 newest stories of all sections), the same on every page: (key, "H:MM").
# REF is 00:20 on 25 Nov in Amsterdam, so 23:58 is 24 Nov.
NET_BINNEN = [("o-zeeland", "0:17"), ("s03", "0:13"), ("o-financieel", "0:08"), ("s04", "23:58"),
              ("o-sport", "23:51"), ("o-binnenland", "23:40"), ("s05", "23:10"), ("s06", "21:02")]
NET_BINNEN_NEW = [("n01", "0:19")] + NET_BINNEN[:-1]

BY_KEY = {s["key"]: s for s in STORIES}

# --------------------------------------------------------------------------------------------
# Page templates (the chrome is copied from the shared model of the site)
# --------------------------------------------------------------------------------------------
PAGE = """<!doctype html>
<html lang="nl">
<head>
  <meta charset="utf-8">
  <meta http-equiv="x-ua-compatible" content="ie=edge">
  <title>{title} | ZeelandNet</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  {head}
  <link rel="stylesheet" href="/assets/css/zld.css">
  <script>var googletag = googletag || {{}}; googletag.cmd = googletag.cmd || [];</script>
</head>
<body class="nieuws">
  <div id="cookiebar" class="cookiebar">ZeelandNet gebruikt cookies. <button class="cookiebar__accept">Akkoord</button></div>
  <header class="site-header">
    <a class="site-header__logo" href="/">ZeelandNet</a>
    <nav class="main-nav"><ul><li><a href="/nieuws">Nieuws</a></li><li><a href="/nieuws/binnenland">Binnenland</a></li><li><a href="/nieuws/buitenland" class="active">Buitenland</a></li><li><a href="/nieuws/financieel">Financieel</a></li><li><a href="/nieuws/sport">Sport</a></li><li><a href="/nieuws/zeeland">Zeeland</a></li></ul></nav>
  </header>
  <div class="container">
    <main class="content">
{main}
    </main>
    <aside class="sidebar">
      <section class="net-binnen">
        <h2>Net binnen</h2>
        <ul>
{net_binnen}
        </ul>
      </section>
      <div class="ad-slot" id="rechtsmidden"><script>googletag.cmd.push(function(){{}});</script>Advertentie</div>
      <div class="weather">Vlissingen 9&deg;C</div>
    </aside>
  </div>
  <footer class="site-footer"><p>&copy; ZeelandNet</p><a href="/privacy">Privacy</a></footer>
</body>
</html>
"""

LISTING_MAIN = """      <h1 class="section-title">Buitenland</h1>
      <ul class="news-list">
{rows}
      </ul>
      <nav class="pager">{pager}</nav>"""

ARTICLE_MAIN = """      <nav class="breadcrumb"><a href="/">Home</a> &rsaquo; <a href="/nieuws">Nieuws</a> &rsaquo; <a href="/nieuws/{section_path}">{section}</a></nav>
      <article class="article">
        <h1 class="article__title">{headline}</h1>
{figure}        <div class="article__body">
{body}
        </div>
      </article>
      <section class="more-news">
        <h2 class="more-news__title">Meer uit {section}</h2>
        <ul class="news-list">
{rows}
        </ul>
      </section>"""

ARTICLE_HEAD = """<meta property="og:title" content="{headline}">
  <link rel="canonical" href="{host}/nieuws/{slug}">"""

FIGURE = '<figure class="article__image"><img src="{src}" alt=""><figcaption>{caption}</figcaption></figure>'
INLINE_AD = '<div class="ad-slot ad-slot--inline"><script>googletag.cmd.push(function(){});</script>Advertentie</div>'

ROW_CLASSES = {
    "item": "news-list__item", "link": "news-list__link", "text": "news-list__text",
    "time": "news-list__time", "ad": "news-list__ad",
}
RENAMED_ROW_CLASSES = {
    "item": "teaser", "link": "teaser__link", "text": "teaser__text",
    "time": "teaser__time", "ad": "teaser--ad",
}


def dateline(story: dict) -> str:
    places, agencies = story["places"], story["agencies"]
    if not places:
        return ""
    line = "/".join(places)
    if agencies:
        line += " (" + "/".join(agencies) + ")"
    return line + " - "


def teaser(story: dict) -> str:
    """The story's first paragraph, dateline included, as the site shows it in listings."""
    return dateline(story) + story["body"][0]


def news_row(story: dict, label: str | None, cls: dict = ROW_CLASSES) -> str:
    lines = [
        f'        <li class="{cls["item"]}">',
        f'          <a class="{cls["link"]}" href="/nieuws/{story["slug"]}" title="{escape(story["headline"])}">',
        f'          <p class="{cls["text"]}">{escape(teaser(story))}</p>',
    ]
    if label is not None:
        lines.append(f'          <span class="{cls["time"]}">{escape(label)}</span>')
    lines += ["          </a>", "        </li>"]
    return "\n".join(lines)


def ad_row(cls: dict = ROW_CLASSES) -> str:
    return f'        <li class="{cls["ad"]}"><div class="ad-slot">Advertentie</div></li>'


def net_binnen_html(rows: list) -> str:
    out = []
    for key, hhmm in rows:
        s = BY_KEY[key]
        out.append(
            f'        <li><a href="/nieuws/{s["slug"]}"><span class="net-binnen__cat">{s.get("section", "Buitenland")}</span> '
            f'<span class="net-binnen__time">{hhmm}</span> <span class="net-binnen__title">{escape(s["headline"])}</span></a></li>')
    return "\n".join(out)


def pager_html(page: int, last: int) -> str:
    prev = f'<a class="pager__prev" href="/nieuws/buitenland?page={page - 1}">Vorige</a> ' if page > 1 else ""
    nxt = f'<a class="pager__next" href="/nieuws/buitenland?page={page + 1}" rel="next">Volgende</a>' if page < last else ""
    return prev + nxt


def body_html(story: dict) -> str:
    out = []
    for i, block in enumerate(story["body"]):
        if isinstance(block, str):
            text = teaser(story) if i == 0 else block
            out.append(f"          <p>{escape(text)}</p>")
        elif block[0] == "raw":
            out.append(f"          <p>{block[1]}</p>")
        elif block[0] == "ad":
            out.append(f"          {INLINE_AD}")
        elif block[0] == "empty":
            out.append("          <p></p>")
        elif block[0] == "figure":
            out.append("          " + FIGURE.format(src=block[1], caption=escape(block[2])))
        elif block[0] == "related":
            out.append(f'          <p class="article__related">{block[1]}</p>')
        else:
            raise ValueError(block)
    return "\n".join(out)


def listing_rows(view: dict, page: int) -> list[tuple[dict, str | None]]:
    """(story, label) for every story row of a listing page."""
    rows = []
    for entry in view["listing"][page]:
        if entry == "AD":
            continue
        key, label = entry if isinstance(entry, tuple) else (entry, BY_KEY[entry]["label"])
        rows.append((BY_KEY[key], label))
    return rows


def more_news(view: dict, story: dict) -> list[dict]:
    return [BY_KEY[k] for k in view["newest"] if k != story["key"]][:7]


def build_view(variant: str) -> dict:
    listing = {p: list(rows) for p, rows in LISTING.items()}
    newest, net_binnen = list(NEWEST), NET_BINNEN
    if variant == "new-stories":
        listing[1] = NEW_ON_TOP + listing[1]
        newest = NEW_ON_TOP + newest
        net_binnen = NET_BINNEN_NEW
    return {"variant": variant, "listing": listing, "newest": newest, "net_binnen": net_binnen,
            "row_classes": RENAMED_ROW_CLASSES if variant == "renamed-classes" else ROW_CLASSES}


def render_pages(view: dict) -> dict[str, str]:
    """File name under nieuws/ -> HTML."""
    pages = {}
    nb = net_binnen_html(view["net_binnen"])
    last = max(view["listing"])
    for page, entries in view["listing"].items():
        cls = view["row_classes"]
        rows = []
        for entry in entries:
            if entry == "AD":
                rows.append(ad_row(cls))
            else:
                key, label = entry if isinstance(entry, tuple) else (entry, BY_KEY[entry]["label"])
                rows.append(news_row(BY_KEY[key], label, cls))
        main = LISTING_MAIN.format(rows="\n".join(rows), pager=pager_html(page, last))
        name = "buitenland.html" if page == 1 else f"buitenland@page={page}.html"
        pages[name] = PAGE.format(title="Buitenland", head="", main=main, net_binnen=nb)
    listed = {s["key"] for p in view["listing"] for s, _ in listing_rows(view, p)}
    others = [s for s in STORIES if s.get("section", "Buitenland") != "Buitenland"]
    for story in [BY_KEY[k] for k in view["newest"]] + others:
        if not story.get("article", True):
            continue
        section = story.get("section", "Buitenland")
        if section == "Buitenland" and story["key"] not in listed:
            continue
        if section == "Buitenland":
            more = "\n".join(news_row(s, s["label"]) for s in more_news(view, story))
        else:
            more = ""
        fig = ""
        if story.get("figure"):
            src, caption = story["figure"]
            fig = "        " + FIGURE.format(src=src, caption=escape(caption)) + "\n"
        main = ARTICLE_MAIN.format(section=section, section_path=section.lower(),
                                   headline=escape(story["headline"]), figure=fig,
                                   body=body_html(story), rows=more)
        head = ARTICLE_HEAD.format(headline=escape(story["headline"]), host=HOST, slug=story["slug"])
        pages[f'{story["slug"]}.html'] = PAGE.format(title=escape(story["headline"]), head=head,
                                                     main=main, net_binnen=nb)
    return pages


# --------------------------------------------------------------------------------------------
# Expected records (docs/CONTRACT.md), computed independently of the crawler
# --------------------------------------------------------------------------------------------
def repair(text: str) -> str:
    return text.replace("\u01ab", "ë")


def slugify(headline: str) -> str:
    """the slug rule (docs/CONTRACT.md)."""
    s = unicodedata.normalize("NFKD", repair(headline).lower())
    s = "".join(c for c in s if not unicodedata.combining(c))
    s = re.sub(r"[^a-z0-9 -]", "", s)
    return re.sub(r"[ -]+", "-", s).strip("-")


def story_id(headline: str) -> str:
    return hashlib.sha256(slugify(headline).encode("utf-8")).hexdigest()[:32]


UNITS = {
    "seconden": "second", "minuut": "minute", "minuten": "minute", "uur": "hour", "dag": "day",
    "dagen": "day", "week": "week", "weken": "week", "maand": "month", "maanden": "month",
    "jaar": "year",
}
PRECISION_RANK = {"second": 0, "minute": 1, "hour": 2, "day": 3, "week": 4, "month": 5, "year": 6}


def months_back(t: datetime, n: int) -> datetime:
    month0 = t.year * 12 + (t.month - 1) - n
    year, month = divmod(month0, 12)
    month += 1
    day = min(t.day, calendar.monthrange(year, month)[1])
    return t.replace(year=year, month=month, day=day)


def relative_instant(label: str) -> tuple[datetime, str]:
    m = re.fullmatch(r"(\d+) (\w+) geleden", label)
    n, precision = int(m.group(1)), UNITS[m.group(2)]
    if precision == "month":
        t = months_back(REF_UTC, n)
    elif precision == "year":
        t = months_back(REF_UTC, 12 * n)
    else:
        t = REF_UTC - timedelta(**{precision + "s": n})
    return t.replace(second=0, microsecond=0), precision


def net_binnen_instant(hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    day = REF_UTC.astimezone(AMS).date()
    t = datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMS)
    if t > REF_UTC:
        day -= timedelta(days=1)
        t = datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMS)
    return t


def best_time(evidence: list[tuple[str, str]]) -> tuple[str | None, str | None, str | None]:
    """The finest of the (source, label) evidence: ("relative", "8 uur geleden") / ("net-binnen", "9:50")."""
    candidates = []
    for source, label in evidence:
        if source == "net-binnen":
            t, precision, tie = net_binnen_instant(label), "minute", 0
        else:
            (t, precision), tie = relative_instant(label), 1
        candidates.append((PRECISION_RANK[precision], tie, t, precision, label))
    if not candidates:
        return None, None, None
    _, _, t, precision, label = min(candidates)
    return t.astimezone(AMS).isoformat(), precision, label


def paragraph_texts(story: dict) -> list[str]:
    texts = []
    for block in story["body"]:
        if isinstance(block, str):
            texts.append(block)
        elif block[0] == "raw":
            texts.append(block[2])
    return [repair(t) for t in texts]


def record(story: dict, kind: str, when: tuple) -> dict:
    texts = paragraph_texts(story)
    rec = {
        "id": story_id(story["headline"]),
        "headline": repair(story["headline"]),
        "url": f'{HOST}/nieuws/{story["slug"]}',
        "section": "Buitenland",
        "places": list(story["places"]),
        "agencies": list(story["agencies"]),
        "published_at": when[0],
        "published_precision": when[1],
        "published_label": when[2],
        "kind": kind,
        "text": texts[0] if kind == "brief" else "\n\n".join(texts),
    }
    assert list(rec) == FIELDS
    return rec


def expected_records(view: dict, pages: list[int]) -> list[dict]:
    """What a crawl that reads these listing pages (and their stories' articles) emits."""
    listed, evidence = [], {}
    for page in pages:
        for story, label in listing_rows(view, page):
            if story["key"] not in listed:
                listed.append(story["key"])
            if label is not None:
                evidence.setdefault(story["key"], []).append(("relative", label))
    briefs = list(listed)
    for key in listed:  # the "Meer uit Buitenland" rows of every article read
        for other in more_news(view, BY_KEY[key]):
            if other["key"] not in briefs:
                briefs.append(other["key"])
            if other["label"] is not None:
                evidence.setdefault(other["key"], []).append(("relative", other["label"]))
    for key, hhmm in view["net_binnen"]:
        if BY_KEY[key].get("section", "Buitenland") == "Buitenland":
            evidence.setdefault(key, []).append(("net-binnen", hhmm))
    out = []
    for key in sorted(briefs, key=view["newest"].index):
        story = BY_KEY[key]
        when = best_time(evidence.get(key, []))
        out.append(record(story, "brief", when))
        if key in listed:
            out.append(record(story, "lead", when))
    return out


def dump_jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


# --------------------------------------------------------------------------------------------
def render(variant: str = "base") -> dict[str, str]:
    """Relative path -> file content for the whole site of *variant*."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    view = build_view(variant)
    files = {"REF": REF + "\n"}
    files.update({f"nieuws/{name}": html for name, html in render_pages(view).items()})
    if variant != "renamed-classes":
        for name, pages in CRAWLS.items():
            files[name] = dump_jsonl(expected_records(view, pages))
    if variant == "new-stories":
        new_ids = {story_id(BY_KEY[k]["headline"]) for k in NEW_ON_TOP}
        recs = [r for r in expected_records(view, CRAWLS["expected-feed.jsonl"]) if r["id"] in new_ids]
        files["expected-new.jsonl"] = dump_jsonl(recs)
    return files


def generate(outdir, variant: str = "base") -> dict[str, str]:
    """Write the site of *variant* into *outdir*; return what was written (path -> content).

    Stale pages (nieuws/*.html) and expected feeds (expected*.jsonl) from an earlier run
    that the variant does not have are removed; nothing else in *outdir* is touched.
    """
    outdir = Path(outdir)
    files = render(variant)
    (outdir / "nieuws").mkdir(parents=True, exist_ok=True)
    for stale in list((outdir / "nieuws").glob("*.html")) + list(outdir.glob("expected*.jsonl")):
        if stale.relative_to(outdir).as_posix() not in files:
            stale.unlink()
    for rel, content in files.items():
        with open(outdir / rel, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(content)
    return files


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--variant", choices=VARIANTS, default="base")
    args = ap.parse_args(argv)
    files = generate(args.outdir, args.variant)
    pages = sum(1 for f in files if f.startswith("nieuws/"))
    feeds = ", ".join(f"{f}: {c.count(chr(10))} records" for f, c in files.items() if f.endswith(".jsonl"))
    print(f"{args.outdir}: {args.variant}, {pages} pages" + (f"; {feeds}" if feeds else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
