"""What kind of fact a question asks for, and whether a sentence carries one.

Rules, not a model: "how many" wants a number, "how much ... pay/settle/damages" a
money amount, "when" a date, "who" a name the question does not already give,
"which court" or "where" a court or a place, "why" a reason, "what did X say" a
statement by X. A sentence carries
the type when it holds such a span. Snippet choice rewards those sentences, and a
question whose type no retrieved sentence carries is answered with a notice that
the index does not report that fact.
"""

from __future__ import annotations

import re
from enum import Enum

from .text import STOPWORDS, stems


class AnswerType(Enum):
    MONEY = "money"
    NUMBER = "number"
    DATE = "date"
    WHO = "who"
    PLACE = "place"
    REASON = "reason"
    RULING = "ruling"
    SPEECH = "speech"
    DURATION = "duration"
    CLAIM = "claim"
    CASE = "case"


# Kinds a quote is steered towards but never judged by: a reason can be worded in too
# many ways for a sentence's lack of "because" to mean the article gives none.
# Nor a statement (an article may report one without a speech verb), a length of time,
# a legal claim or a case name: each can be worded in ways no rule lists.
SOFT_TYPES = frozenset({AnswerType.REASON, AnswerType.SPEECH, AnswerType.DURATION,
                        AnswerType.CLAIM, AnswerType.CASE})

# What the missing fact is called in "No report in the index gives the ...".
FACT_NAMES = {
    AnswerType.MONEY: "amount",
    AnswerType.NUMBER: "number",
    AnswerType.DATE: "date",
    AnswerType.WHO: "name",
    AnswerType.PLACE: "court or place",
    AnswerType.REASON: "reason",
    AnswerType.RULING: "ruling",
    AnswerType.SPEECH: "statement",
    AnswerType.DURATION: "length of time",
    AnswerType.CLAIM: "claim",
    AnswerType.CASE: "case",
}

_MONEY_CUE = re.compile(
    r"\b(?:how much|what (?:was|is|were|are) the (?:amount|sum|fine|penalty|price|figure)|"
    r"what amount|what sum|how big (?:a|was|is) (?:the )?(?:fine|settlement|payout|deal))\b"
    r"|\b(?:damages|fined?|penalt(?:y|ies)|payout|compensation|paid|pay|pays|paying|cost|"
    r"worth|valued?|price|dollars|euros|pounds|yen|cough(?:ed)? up|shell(?:ed)? out|fork(?:ed)? out)\b",
    re.I)
_HOW_MUCH = re.compile(r"\bhow much\b|\bhow big\b|\bwhat (?:amount|sum|figure)\b", re.I)
_MONEY_CONTEXT = re.compile(
    r"\b(?:pay|paid|pays|paying|settle|settled|settlement|damages|fined|penalty|cost|"
    r"costs|worth|value|valued|price|invest|invested|investment|deal|compensation|seek|seeking|"
    r"sought|award|awarded|owe|owed|dollars|euros|pounds|yen|money|cash|payout|license|"
    r"licensing|licence|per (?:work|book|song|title)|cough|shell|fork|spend|spent)\w*\b", re.I)
_HOW_MANY = re.compile(r"\bhow many\b|\bnumber of\b|\bhow much (?:data|content|text|music)\b"
                       r"|\bwhat (?:share|percentage|percent|proportion)\b", re.I)
_WHEN = re.compile(r"^\W*when\b|\bwhen (?:did|was|is|were|will|does|do|has|had|are|would|could|should)\b"
                   r"|\bwhat (?:date|day|year|month|time)\b|\bwhich (?:date|day|year|month)\b"
                   r"|\bhow long ago\b|\bsince when\b", re.I)
_WHO = re.compile(r"\bwho(?:m|se)?\b|\bwhich (?:judge|company|companies|firm|firms|lawyer|lawyers|"
                  r"person|people|publisher|publishers|outlet|outlets|author|authors|artist|artists|"
                  r"label|labels|studio|studios|group|groups|official|minister|agency|plaintiffs?|"
                  r"defendants?)\b|\bwhat (?:judge|company|firm|publisher|outlet|group|agency)\b"
                  r"|\bname of the\b", re.I)
_WHERE = re.compile(r"\bwhere\b|\b(?:which|what) (?:court|country|city|state|jurisdiction|venue)\b"
                    r"|\bin what court\b", re.I)
# "what did the Third Circuit rule", "did Raw Story win its appeal", "how did the court decide".
_RULING = re.compile(r"\b(?:what|how) did (?:the |a |an )?[\w .'’-]{0,40}?\b(?:rule|decide|hold|find|conclude|"
                     r"say in (?:its|the|their) (?:ruling|decision|opinion))\b"
                     r"|\bdid (?:the )?[\w .'’-]{0,40}?\b(?:win|lose|prevail)\b"
                     r"|\bwho won\b|\bwhat was the (?:ruling|verdict|decision|outcome)\b", re.I)
# "what did the publishers say after losing", "what does Reddit want from Perplexity",
# "how did OpenAI respond": a statement, by the one the question names.
_SPEECH = re.compile(
    r"\b(?:what|how) (?:did|does|do|has|have|had|is|was|were|are)\b(?P<who>[\w .'’&-]{1,60}?)\b"
    r"(?:say|said|saying|argue|argued|claim|claimed|tell|told|write|wrote|react|reacted|respond|"
    r"responded|think|call|called|demand|demanded|want|wanted|complain|complained|describe|"
    r"described)\b"
    r"|\bwhat (?:was|is) (?P<owner>[\w .'’&-]{1,40}?)(?:'s|’s) (?:response|reaction|argument|"
    r"position|statement|view)\b", re.I)
_SPEECH_RE = re.compile(
    r"\b(?:said|says|say|told|tells|wrote|writes|argued|argues|argue|stated|states|added|called|"
    r"responded|responds|replied|replies|reacted|reacts|"
    r"calls|described|describes|warned|warns|according to|statement|insisted|insists|maintained|"
    r"maintains|contended|contends|complained|demanded|demands|demanding|wants|wanted|asked|asks|urged|"
    r"urges|welcomed|criticized|criticised|praised|vowed|pledged|noted|claimed|claims)\b",
    re.I)
# "how long does the deal last", "for how long": a length of time ("how long ago" is a date).
_HOW_LONG = re.compile(r"\bhow long\b(?!\s+ago)", re.I)
# "which claims survived", "what claims did Getty bring": the legal claims named.
_CLAIMS = re.compile(r"\b(?:which|what|any) (?:other |of the |legal )?(?:claims?|counts?|allegations?|"
                     r"causes? of action|theor(?:y|ies))\b", re.I)
# "which Supreme Court case did the judge lean on": a case name the question does not give.
_CASE = re.compile(r"\b(?:which|what) (?:supreme court |appeals court |earlier |prior |other )?"
                   r"(?:case|precedent)s?\b(?! (?:is|was) (?:it|this|that)\b)", re.I)
_WHY = re.compile(r"\bwhy\b|\bwhat (?:was|is) the reason\b|\bfor what reason\b|\bhow come\b", re.I)


_YES_NO = re.compile(r"^\W*(?:so\s+|and\s+|but\s+|wait\s+|ok\s+|hey\s+)*(?:did|does|do|is|was|were|are|"
                     r"has|have|had|will|would|can|could|should|shall|may|might)\b", re.I)
_FINE_NOUN = re.compile(r"\b(?:a|the|its|their|what|any|biggest|largest|record) fines?\b|\bfined\b", re.I)


def question_type(text: str) -> AnswerType | None:
    """The type of fact the question asks for, or None for open questions."""
    q = text.strip()
    if _HOW_MANY.search(q):
        return AnswerType.NUMBER
    if _HOW_MUCH.search(q):
        money = _MONEY_CONTEXT.search(q) or _FINE_NOUN.search(q)
        return AnswerType.MONEY if money else AnswerType.NUMBER
    if _RULING.search(q):
        return AnswerType.RULING
    if _CASE.search(q):
        return AnswerType.CASE
    if _CLAIMS.search(q):
        return AnswerType.CLAIM
    if _SPEECH.search(q):
        return AnswerType.SPEECH
    if _YES_NO.search(q):
        # "did X renew the deal when it ran out?" asks yes or no: "when" is a conjunction.
        return None
    if _WHEN.search(q):
        return AnswerType.DATE
    if _HOW_LONG.search(q):
        return AnswerType.DURATION
    if _WHERE.search(q):
        return AnswerType.PLACE
    if _WHO.search(q):
        return AnswerType.WHO
    if _WHY.search(q):
        return AnswerType.REASON
    if (re.search(r"\b(?:damages|penalty|payout)\b", q, re.I) or _FINE_NOUN.search(q)) and re.search(
            r"\b(?:what|how)\b", q, re.I):
        return AnswerType.MONEY
    return None


_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
                 r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|"
                 r"fifty|sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|"
                 r"trillions?|dozens?|half|quarter|a third|two-thirds")
_NUMBER_RE = re.compile(rf"(?<![\w.])\d[\d,.]*\b|\b(?:{_NUMBER_WORDS})\b", re.I)
_MONEY_RE = re.compile(
    r"\b(?:hundreds|tens|millions|billions|thousands) of (?:millions of |billions of )?"
    r"(?:dollars|euros|pounds|yen)\b|[$€£¥₩]\s?\d|\b\d[\d,.]*\s?(?:million|billion|thousand|m|bn|k)?\s?"
    r"(?:dollars|euros|pounds|yen|yuan|renminbi|won|rupees|crore|lakh|kronor|kroner|francs|usd|eur|gbp|rmb|cny|jpy|inr)\b"
    r"|\b(?:US|C|A|NZ|HK|R)\$\s?\d"
    r"|\b(?:USD|EUR|GBP|JPY)\s?\d", re.I)
_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
           r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_DATE_RE = re.compile(
    rf"\b(?:{_MONTHS})\.?\s+\d{{1,2}}\b|\b\d{{1,2}}\s+(?:{_MONTHS})\b|\b(?:19|20)\d\d\b"
    rf"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
    rf"|\b(?:in|since|by|until|from|last|early|late|mid-?)\s+(?:{_MONTHS})\b"
    r"|\b(?:yesterday|last week|last month|last year|earlier this (?:year|month|week))\b", re.I)
_DURATION_RE = re.compile(
    rf"\b(?:\d[\d,.]*|{_NUMBER_WORDS}|a|an|several|a few|few)[- ](?:years?|months?|weeks?|days?|hours?|"
    r"decades?)\b|\b(?:year|month|week|day)s? (?:long|old)\b|\bfor life\b|\bindefinitely\b"
    r"|\buntil (?:the end of |at least )?(?:19|20)\d\d\b|\bthrough (?:19|20)\d\d\b", re.I)
# The claims copyright suits bring besides infringement, as news names them.
_CLAIM_RE = re.compile(
    r"\b(?:unfair competition|trademark|trade dress|dilution|unjust enrichment|negligence|"
    r"breach of (?:contract|license|licence)|misappropriation|DMCA|Digital Millennium|"
    r"copyright management information|vicarious|contributory|direct(?:ly)? infring\w*|"
    r"secondary (?:copyright )?infringement|induce\w* infringement|right of publicity|"
    r"false (?:designation|advertising|endorsement)|passing off|database right|"
    r"privacy|antitrust|conversion|fraud|state-law)\b", re.I)
_CASE_NAME_RE = re.compile(r"\b[A-Z][\w.'’&-]*(?:\s+[A-Z][\w.'’&-]*)*\s+v\.?\s+[A-Z][\w.'’&-]*"
                           r"(?:\s+[A-Z][\w.'’&-]*)*")
_PLACE_RE = re.compile(
    r"\b(?:court|tribunal|circuit|district|judge|jury|high court|supreme court|federal|state|"
    r"in [A-Z][a-z]+|Delaware|California|New York|Manhattan|San Francisco|London|Munich|Hamburg|"
    r"Tokyo|Beijing|Paris|Delhi|Ontario|Washington|Texas|Massachusetts|Illinois)\b")
_RULING_RE = re.compile(
    r"\b(?:ruled|rules|held|holds|found|finds|decided|dismissed|dismisses|granted|grants|denied|"
    r"denies|sided|affirmed|affirms|reversed|reverses|upheld|upholds|tossed|threw out|thrown out|"
    r"rejected|rejects|struck down|allowed|allows|ordered|orders|concluded|concludes|won|lost|"
    r"ruling|verdict|decision|judgment)\b", re.I)
# An amount, a date or a count that the report says was not made public answers the
# question honestly: "the terms were not disclosed".
_UNDISCLOSED_RE = re.compile(
    r"\b(?:not|n't|never) (?:been |be |yet )?(?:disclosed|made public|revealed|announced|released|"
    r"set|scheduled)\b|\b(?:undisclosed|unspecified|unknown|confidential)\b|\bdeclined to (?:say|disclose|comment|give)\b"
    r"|\bdid not (?:say|disclose|give|reveal|specify)\b|\bwithout (?:disclosing|giving)\b", re.I)
_REASON_RE = re.compile(
    r"\b(?:because|since|due to|owing to|in order to|so that|as a result|on the grounds|"
    r"the reason|arguing|argued|argues|claims?|claimed|alleg\w+|said|says|found that|held that|"
    r"ruled that|reasoned|citing|cited|after|for)\b", re.I)
# A name: a run of capitalized words or initialisms ("Judge William Alsup", "Getty Images").
_NAME_RE = re.compile(r"\b[A-Z][\w'’&.-]*(?:\s+(?:[A-Z][\w'’&.-]*|of|and|de|v\.))*")


# "which judge", "who is the lawyer": the answer names the role.
ROLES = frozenset({"judge", "lawyer", "attorney", "minister", "ceo", "founder", "spokesperson",
                    "spokesman", "spokeswoman", "president", "chief", "commissioner", "senator",
                    "magistrate"})


# How news names a role a question abbreviates: "the CEO" is "chief executive" in print.
_ROLE_NAMES = {
    "ceo": frozenset({"chief", "execut"}),
    "spokesperson": frozenset({"spokesman", "spokeswoman", "spokesperson", "repres"}),
    "spokesman": frozenset({"spokesman", "spokeswoman", "spokesperson", "repres"}),
}


def speaker(text: str) -> frozenset[str]:
    """The stems of whoever a "what did X say" question asks about ("McMahon", "music
    publishers"); empty when the question asks for no statement or names no one."""
    match = _SPEECH.search(text)
    if not match:
        return frozenset()
    who = match.group("who") or match.group("owner") or ""
    words = set(stems(who)) - STOPWORDS
    for role, said_as in _ROLE_NAMES.items():
        if role in words:
            words |= said_as
    return frozenset(words)


_PRONOUN_START = re.compile(r"^\W*(?:he|she|they|his|her|their)\b", re.I)
_INVERTED = re.compile(r"^(?:said|says|told|wrote|writes|added|adds)$", re.I)
SPEAKER_BEFORE = 8  # words before a speech verb that may name who speaks
SPEAKER_AFTER = 3  # and after it, for "..., said Johnson"


def _spoken_by(sentence: str, speaker_stems: frozenset[str],
               verbs: re.Pattern[str] = _SPEECH_RE) -> bool:
    """Whether a speech verb (or another of `verbs`) of the sentence has one of the
    speaker's words as its subject: among the words just before it, or just after "said"."""
    words = [(m.start(), m.group(0)) for m in re.finditer(r"[\w'’.-]+", sentence)]
    if not words:
        return False
    word_stems = [set(stems(w)) for _, w in words]
    for m in verbs.finditer(sentence):
        at = next((i for i, (s, _) in enumerate(words) if s >= m.start()), len(words))
        before = word_stems[max(0, at - SPEAKER_BEFORE):at]
        after = word_stems[at + 1:at + 1 + SPEAKER_AFTER] if _INVERTED.match(m.group(0)) else []
        if any(speaker_stems & w for w in (*before, *after)):
            return True
    return False


def statements(sentences: list[str], speaker_stems: frozenset[str],
               verbs: re.Pattern[str] = _SPEECH_RE,
               stem_sets: list[set[str]] | None = None) -> list[bool]:
    """Which sentences report a statement by the speaker: naming them as the one who
    speaks, or opening with a pronoun right after such a sentence ("He described the
    settlement as ..."). Without a speaker, any sentence that reports a statement.
    With the ruling verbs, which sentences report a ruling by the court asked about.
    stem_sets: each sentence's stems, when the caller has them."""
    if not speaker_stems:
        return [bool(verbs.search(s)) for s in sentences]
    if stem_sets is None:
        stem_sets = [set(stems(s)) for s in sentences]
    named = [bool(speaker_stems & words) for words in stem_sets]
    out = []
    for i, sentence in enumerate(sentences):
        by = named[i] and _spoken_by(sentence, speaker_stems, verbs)
        if not by and i > 0 and named[i - 1] and _PRONOUN_START.search(sentence):
            by = bool(verbs.search(sentence))
        out.append(by)
    return out


# "What did the Third Circuit decide": the court or judge whose ruling is asked for.
_RULER = re.compile(r"\b(?:what|how) did (?:the |a |an )?(?P<who>[\w .'’-]{1,40}?)\s+"
                    r"(?:rule|decide|hold|find|conclude)\b", re.I)
# Words that name no particular court or judge: "the court", "the judge", "the panel".
_GENERIC_RULERS = frozenset(stems("court courts judge judges panel justices appeals appellate "
                                  "federal district u.s us"))


_STAND_INS = frozenset({"it", "he", "she", "they"})


def ruler(text: str) -> frozenset[str]:
    """The stems naming the court or judge a "what did X rule" question asks about
    ("third", "circuit"), less words any court has; empty when none is named."""
    match = _RULER.search(text)
    if not match:
        return frozenset()
    return frozenset(stems(match.group("who"))) - STOPWORDS - _GENERIC_RULERS


def rulings(sentences: list[str], ruler_stems: frozenset[str],
            stem_sets: list[set[str]] | None = None) -> list[bool]:
    """Which sentences report a ruling by the court or judge asked about. When the article
    opens with that court ("The Hamburg Regional Court has thrown out ..."), its later
    "the court found" or "it rejected" is that court's too; an article naming it only
    further down (an appeal sent to the Third Circuit) may be reporting another court."""
    if stem_sets is None:
        stem_sets = [set(stems(s)) for s in sentences]
    if ruler_stems and any(ruler_stems & words for words in stem_sets[:2]):
        ruler_stems = ruler_stems | _GENERIC_RULERS | _STAND_INS
    return statements(sentences, ruler_stems, _RULING_RE, stem_sets)


def undisclosed(sentence: str) -> bool:
    """The sentence says the asked-for figure was not made public ("terms were not disclosed")."""
    return bool(_UNDISCLOSED_RE.search(sentence))


def carries(sentence: str, kind: AnswerType, question_words: frozenset[str] = frozenset()) -> bool:
    """Whether the sentence holds a span of the asked-for type.

    For WHO the name must not be one the question already gives (lowercased words). A
    statement by a named speaker, or a ruling by a named court, is judged over the whole
    article (`statements`, `rulings`): it may continue in the next sentence.
    """
    if kind in (AnswerType.MONEY, AnswerType.NUMBER, AnswerType.DATE) and _UNDISCLOSED_RE.search(sentence):
        return True
    if kind is AnswerType.MONEY:
        return bool(_MONEY_RE.search(sentence))
    if kind is AnswerType.NUMBER:
        return bool(_NUMBER_RE.search(_DATE_RE.sub(" ", sentence)))
    if kind is AnswerType.DATE:
        return bool(_DATE_RE.search(sentence))
    if kind is AnswerType.RULING:
        return bool(_RULING_RE.search(sentence))
    if kind is AnswerType.PLACE:
        if "court" in question_words and not re.search(r"\b(?:court|tribunal|circuit)\b", sentence, re.I):
            return False  # "which court": a sentence that names no court does not answer
        return bool(_PLACE_RE.search(sentence))
    if kind is AnswerType.REASON:
        return bool(_REASON_RE.search(sentence))
    if kind is AnswerType.DURATION:
        return bool(_DURATION_RE.search(sentence))
    if kind is AnswerType.CLAIM:
        return bool(_CLAIM_RE.search(sentence))
    if kind is AnswerType.CASE:
        for match in _CASE_NAME_RE.finditer(sentence):
            parts = set(_plain_words(match.group(0))) - STOPWORDS - {"v"}
            if parts and not parts <= question_words:
                return True
        return False
    if kind is AnswerType.SPEECH:
        return bool(_SPEECH_RE.search(sentence))
    roles = ROLES & question_words
    if roles and not roles & set(_plain_words(sentence)):
        return False  # "which judge": a sentence that names no judge does not answer
    for match in _NAME_RE.finditer(sentence):
        # "The", "In", "But" at a sentence's start are not names
        parts = set(_plain_words(match.group(0))) - STOPWORDS
        if parts and not parts <= question_words and (
                not roles or _beside_role(sentence, match, roles)):
            return True
    return False


def _beside_role(sentence: str, name: re.Match[str], roles: frozenset[str]) -> bool:
    """Whether the name is the role's holder: the role word is part of it ("Judge William
    Alsup"), the word before it ("lawyer Matt Topic") or just after it
    ("Alsup, the judge"); "a judge in San Francisco" names a place, not a judge."""
    before = _plain_words(sentence[:name.start()])[-1:]
    inside = _plain_words(name.group(0))
    after = _plain_words(sentence[name.end():])[:3]
    return bool(roles & {*before, *inside, *after})


def _plain_words(text: str) -> list[str]:
    """The text's space-separated words, lowercased, without edge punctuation."""
    return [w.lower().strip(".,'’") for w in text.split()]
