"""One language code on the timeline: BCP-47 tags whose language is ISO 639-1 where it has
a two-letter code (``en``, ``fr``, ``pt-BR``, ``zh-Hans``), for every text source.

Each source speaks its own dialect, mapped here on the way in by :func:`language_tag`:

- container streams: ISO 639-2 three-letter codes, bibliographic or terminological
  (``eng``, ``fre``/``fra``, ``ger``/``deu``), ``und`` when unknown;
- sidecar file names: whatever people write (``movie.en.srt``, ``movie.pt_BR.vtt``,
  ``movie.fre.srt``);
- Tesseract: its language names (``eng``, ``fra``, ``chi_sim``, ``srp_latn``);
- Whisper: ISO 639-1 already (``en``).

``und``, ``mul``, ``mis``, ``zxx`` and anything that is not a language code become None
(unknown). A three-letter code without a two-letter one stays three letters (``haw``), as
BCP-47 says. The table is ISO 639-2 as Debian's iso-codes lists it (no dependency: it is
small and does not change); :data:`LANGUAGE_SQL` is the same table for DuckDB, so text
written before this mapping (``eng`` from Tesseract or a container) reads as ``en``.
"""

from __future__ import annotations

import re

from framesift.errors import SettingsError

__all__ = [
    "LANGUAGE_SQL",
    "language_tag",
    "require_language",
    "spoken_language",
    "tesseract_names",
    "text_language",
]

_PAIRS = (  # ISO 639-1 = ISO 639-2/T [/ 639-2/B]
    "aa=aar ab=abk af=afr ak=aka am=amh ar=ara an=arg as=asm av=ava ae=ave ay=aym az=aze "
    "ba=bak bm=bam be=bel bn=ben bh=bih bi=bis bo=bod/tib bs=bos br=bre bg=bul ca=cat "
    "cs=ces/cze ch=cha ce=che cu=chu cv=chv kw=cor co=cos cr=cre cy=cym/wel da=dan "
    "de=deu/ger dv=div dz=dzo el=ell/gre en=eng eo=epo et=est eu=eus/baq ee=ewe fo=fao "
    "fa=fas/per fj=fij fi=fin fr=fra/fre fy=fry ff=ful gd=gla ga=gle gl=glg gv=glv gn=grn "
    "gu=guj ht=hat ha=hau he=heb hz=her hi=hin ho=hmo hr=hrv hu=hun hy=hye/arm ig=ibo "
    "io=ido ii=iii iu=iku ie=ile ia=ina id=ind ik=ipk is=isl/ice it=ita jv=jav ja=jpn "
    "kl=kal kn=kan ks=kas ka=kat/geo kr=kau kk=kaz km=khm ki=kik rw=kin ky=kir kv=kom "
    "kg=kon ko=kor kj=kua ku=kur lo=lao la=lat lv=lav li=lim ln=lin lt=lit lb=ltz lu=lub "
    "lg=lug mh=mah ml=mal mr=mar mk=mkd/mac mg=mlg mt=mlt mn=mon mi=mri/mao ms=msa/may "
    "my=mya/bur na=nau nv=nav nr=nbl nd=nde ng=ndo ne=nep nl=nld/dut nn=nno nb=nob no=nor "
    "ny=nya oc=oci oj=oji or=ori om=orm os=oss pa=pan pi=pli pl=pol pt=por ps=pus qu=que "
    "rm=roh ro=ron/rum rn=run ru=rus sg=sag sa=san si=sin sk=slk/slo sl=slv se=sme sm=smo "
    "sn=sna sd=snd so=som st=sot es=spa sq=sqi/alb sc=srd sr=srp ss=ssw su=sun sw=swa "
    "sv=swe ty=tah ta=tam tt=tat te=tel tg=tgk tl=tgl th=tha ti=tir to=ton tn=tsn ts=tso "
    "tk=tuk tr=tur tw=twi ug=uig uk=ukr ur=urd uz=uzb ve=ven vi=vie vo=vol wa=wln wo=wol "
    "xh=xho yi=yid yo=yor za=zha zh=zho/chi zu=zul"
)
_THREE_ONLY = (  # ISO 639-2 codes without a two-letter code (BCP-47 keeps them)
    "ace ach ada ady afa afh ain akk ale alg alt ang anp apa arc arn arp art arw ast ath "
    "aus awa bad bai bal ban bas bat bej bem ber bho bik bin bla bnt bra btk bua bug byn "
    "cad cai car cau ceb cel chb chg chk chm chn cho chp chr chy cmc cnr cop cpe cpf cpp "
    "crh crp csb cus dak dar day del den dgr din doi dra dsb dua dum dyu efi egy eka elx "
    "enm ewo fan fat fil fiu fon frm fro frr frs fur gaa gay gba gem gez gil gmh goh gon "
    "gor got grb grc gsw gwi hai haw hil him hit hmn hsb hup iba ijo ilo inc ine inh ira "
    "iro jbo jpr jrb kaa kab kac kam kar kaw kbd kha khi kho kmb kok kos kpe krc krl kro "
    "kru kum kut lad lah lam lez lol loz lua lui lun luo lus mad mag mai mak man map mas "
    "mdf mdr men mga mic min mis mkh mnc mni mno moh mos mul mun mus mwl mwr myn myv nah "
    "nai nap nds new nia nic niu nog non nqo nso nub nwc nym nyn nyo nzi osa ota oto paa "
    "pag pal pam pap pau peo phi phn pon pra pro raj rap rar roa rom rup sad sah sai sal "
    "sam sas sat scn sco sel sem sga sgn shn sid sio sit sla sma smi smj smn sms snk sog "
    "son srn srr ssa suk sus sux syc syr tai tem ter tet tig tiv tkl tlh tli tmh tog tpi "
    "tsi tum tup tut tvl tyv udm uga umb und vai vot wak wal war was wen xal yao yap ypk "
    "zap zbl zen zgh znd zun zxx zza"
)

_UNKNOWN = frozenset({"und", "mul", "mis", "zxx"})
"""Undetermined, multiple languages, uncoded, no linguistic content: unknown (None)."""
_RETIRED = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro"}
"""Withdrawn ISO 639-1 codes still met in the wild (Whisper names Javanese ``jw``)."""
_EXTRA_THREE = {"yue": "yue", "cmn": "zh"}
"""ISO 639-3 codes Whisper and containers use beyond ISO 639-2 (Cantonese, Mandarin)."""
_TESSERACT: dict[str, str | None] = {
    # Tesseract's names that are not "a three-letter code, maybe with a script".
    "chi_sim": "zh-Hans",
    "chi_sim_vert": "zh-Hans",
    "chi_tra": "zh-Hant",
    "chi_tra_vert": "zh-Hant",
    "jpn_vert": "ja",
    "kor_vert": "ko",
    "deu_latf": "de",
    "frk": "de",  # German in Fraktur
    "ita_old": "it",
    "spa_old": "es",
    "kmr": "ku",  # Kurmanji
    "osd": None,  # orientation and script detection, not a language
    "equ": None,  # equations
}
_SUBTAG = re.compile(r"^[A-Za-z0-9]{1,8}$")

_TWO_OF_THREE: dict[str, str] = {}
_THREE_OF_TWO: dict[str, str] = {}  # two-letter -> ISO 639-2/T (Tesseract's choice)
for _pair in _PAIRS.split():
    _two, _threes = _pair.split("=")
    _THREE_OF_TWO[_two] = _threes.split("/")[0]
    for _three in _threes.split("/"):
        _TWO_OF_THREE[_three] = _two
_KNOWN_THREE = frozenset(_THREE_ONLY.split()) | frozenset(_TWO_OF_THREE) | frozenset(_EXTRA_THREE)


def language_tag(code: str | None) -> str | None:
    """The BCP-47 tag of a language code from any source; None when it is unknown or not a
    language code.

    ``eng``, ``en`` and ``EN`` give ``en``; ``fre`` and ``fra`` give ``fr``; ``pt_BR`` and
    ``pt-br`` give ``pt-BR``; ``chi_sim`` gives ``zh-Hans``; ``und`` gives None.
    """
    if code is None:
        return None
    raw = code.strip()
    if raw.lower() in _TESSERACT:
        return _TESSERACT[raw.lower()]
    parts = raw.replace("_", "-").split("-")
    if not all(_SUBTAG.match(part) for part in parts):
        return None
    base = parts[0].lower()
    if base in _UNKNOWN or not base.isalpha():
        return None
    if len(base) == 3 and base in _KNOWN_THREE:
        base = _TWO_OF_THREE.get(base) or _EXTRA_THREE.get(base, base)
    elif len(base) == 2 and (base in _THREE_OF_TWO or base in _RETIRED):
        base = _RETIRED.get(base, base)
    else:
        return None
    return "-".join([base, *(_subtag(part) for part in parts[1:])])


def _subtag(part: str) -> str:
    """BCP-47's letter case: scripts Title (Hans), regions UPPER (BR), the rest lower."""
    if len(part) == 4 and part.isalpha():
        return part.title()
    if (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
        return part.upper()
    return part.lower()


def require_language(code: str, name: str) -> str:
    """``code`` as a BCP-47 tag, or SettingsError naming the option ``name``."""
    tag = language_tag(code)
    if tag is None:
        raise SettingsError(
            f"{name}={code!r}: not a known language; use a BCP-47 tag such as 'en', 'fr' "
            "or 'pt-BR' (ISO 639 three-letter codes and Tesseract names are read too)"
        )
    return tag


def spoken_language(code: str | None) -> str | None:
    """The language as Whisper takes it (its ISO 639-1 part: ``pt-BR`` -> ``pt``)."""
    if code is None:
        return None
    return require_language(code, "speech_language").split("-")[0]


def tesseract_names(languages: str) -> str:
    """Tesseract's ``-l`` argument for ``languages``: BCP-47 tags or Tesseract names,
    joined by ``+`` (``en+fr`` -> ``eng+fra``; ``chi_sim`` stays). SettingsError for a
    part that is neither."""
    names: list[str] = []
    for part in languages.split("+"):
        native = part.strip().lower()
        if native in _TESSERACT or "_" in native or (len(native) == 3 and native in _KNOWN_THREE):
            names.append(native)
            continue
        tag = language_tag(part)
        if tag is None:
            raise SettingsError(
                f"ocr_language={languages!r}: {part!r} is not a known language; use BCP-47 "
                "tags such as 'en' or 'zh-Hans', or Tesseract's names ('eng', 'chi_sim'), "
                "joined by '+'"
            )
        base, *subtags = tag.split("-")
        script = next((s for s in subtags if len(s) == 4), "")  # regions do not matter
        if base == "zh":  # Tesseract's Chinese is named by its script
            names.append("chi_tra" if script == "Hant" else "chi_sim")
        else:
            three = _THREE_OF_TWO.get(base, base)
            names.append(f"{three}_{script.lower()}" if script else three)
    return "+".join(names)


def text_language(tesseract_languages: str) -> str | None:
    """The language of text read with ``tesseract_languages``: its tag when they name one
    language, None when they name several (Tesseract does not say which one a line is)."""
    tags = {language_tag(part) for part in tesseract_languages.split("+")} - {None}
    return tags.pop() if len(tags) == 1 else None


def _sql_table() -> str:
    """Every code that is written differently from its tag, as a DuckDB VALUES table."""
    rows: dict[str, str | None] = {**_TWO_OF_THREE, **_TESSERACT}
    rows.update(dict.fromkeys(_UNKNOWN))
    values = ", ".join(
        f"('{code}', {'NULL' if tag is None else repr(tag)})" for code, tag in sorted(rows.items())
    )
    return f"SELECT * FROM (VALUES {values}) AS t(code, tag)"


LANGUAGE_SQL = _sql_table()
"""A DuckDB query of (code, tag): each three-letter, Tesseract or unknown code an older
catalog may hold beside the tag it reads as (``eng`` -> ``en``, ``und`` -> NULL)."""
