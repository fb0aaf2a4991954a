"""Is this message a question, whom does it speak to at its start, and is it mere chatter?

The text is looked at here and nowhere else; only the verdicts leave this module (`read` gives them all at once).
Measured on labelled transcripts (benchmarks/question_graph.py, fixtures in benchmarks/data/chat).

A message is a question when one of its sentences (code, URLs, mentions and :emoji: codes removed; a leading
"hey", "ok so", "bob,", "quick q:" or a member's name skipped) is one:
- it ends with a question mark, unless every word in it is a reaction ("lol what?", "wait, really?", "huh?")
  or the message answers it itself in the next sentence ("Why? Because ...");
- or, without a mark because chat drops it, it opens like a question:
  - a question word followed by something other than a subject pronoun: "what's the policy", "who owns",
    "how long"; but not "what I meant", "how we fixed it", "what a week", "who knew", "who cares";
    "when" and "where" only with a verb or "to" after them ("when is", "where do", "where to find"), as they
    mostly open clauses;
  - an auxiliary followed by its subject: "can you", "is there", "does the", "did anyone", "should we";
    but not "could be worse", "will do", "can't believe", "do this first", "have a good one";
  - "anyone"/"anybody" first ("anyone know", "anyone up for"), or "any idea(s)/thoughts/tips/chance";
  - a phrase that asks wherever it stands: "does anyone know", "can someone", "wondering if", "i wonder",
    "what do you think", "is it possible", "how come", "tell me which/what/how".

A message speaks to a member at its start (`addressed_by_name`) with "name: ...", "name, ...", "@name ..." or a
bare "name" followed by a word that opens a sentence spoken to someone ("yuki there's a flag", "kofi did you",
"jonas yes!"); `names` maps lower-cased display names and first names to user ids. `leading_mentions` are the
platform mentions (<@ID>) the text starts with: the people it speaks to, as opposed to those it mentions in passing
("tag <@gus>, he approves those").

Chatter (`is_chatter`) answers nobody: a message made only of reactions, thanks and greetings ("lol", "ty!",
"nice, thanks") or one that starts with an away notice ("brb dinner"). A wordless one (`is_wordless`: emoji only)
answers only inside a thread or as a reply, where a thumbs-up to "12:30 ok?" means yes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

# Code, URLs (Slack's <url|label> too), <@mentions> and <#channels>, :emoji: codes.
_NOISE = re.compile(r"```.*?```|`[^`]*`|<?https?://[^\s>]+(?:\|[^>]*)?>?|<[@#!][^>]*>|:[a-z0-9_+\-]+:", re.S)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[a-z0-9+][a-z0-9'+\-]*")
_TRAILING = " )\"'*_~.…"  # closing marks allowed after a question mark

_QUESTION_WORDS = {
    "what", "what's", "whats", "who", "who's", "whos", "which", "whose", "whom", "why", "why's", "how", "how's",
    "hows", "when", "when's", "where", "where's", "wheres",
}
_CLAUSE_WORDS = {"when", "where"}  # mostly open a clause: count only with a verb right after
_HOW_NEXT = {"long", "many", "much", "often", "far", "come", "about", "to", "else", "big", "old", "soon", "bad"}
_AUXILIARIES = {
    "is", "are", "was", "were", "am", "do", "does", "did", "have", "has", "had", "can", "could", "would", "should",
    "will", "shall", "may", "might", "must", "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't",
    "haven't", "hasn't", "can't", "couldn't", "wouldn't", "shouldn't", "won't",
}
# After "do"/"don't"/"have": only a person makes a question ("do you", "have we"); "do this", "have a good one",
# "don't forget" are imperatives.
_PERSON_ONLY = {"do", "don't", "have", "had", "haven't"}
_PERSONS = {
    "i", "you", "we", "they", "he", "she", "u", "ya", "y'all", "yall", "ye", "anyone", "anybody", "someone",
    "somebody", "everyone", "everybody", "people", "folks", "guys", "any", "all",
}
_SUBJECTS = _PERSONS | {
    "it", "this", "that", "these", "those", "there", "the", "a", "an", "my", "your", "our", "their", "his", "her",
    "its", "anything", "something", "everything", "nothing", "someone's", "anyone's",
}
_CLAUSE_SUBJECTS = {"i", "we", "you", "they", "he", "she", "it", "i'm", "we're", "you're", "they're", "it's"}
_ANY_NEXT = {"idea", "ideas", "thoughts", "tips", "advice", "update", "updates", "news", "luck", "chance",
             "reason", "objections", "takers", "volunteers", "suggestions", "recommendations", "pointers"}
_PHRASE_LIST = (
    "does anyone know", "does anybody know", "do you know", "do you guys know", "anyone know", "can someone",
    "could someone", "can anyone", "could anyone", "can somebody", "wondering if", "wondering whether",
    "i wonder", "what do you think", "what do you guys think", "is it possible", "how come", "any idea",
    "would you mind", "do you mind", "tell me which", "tell me what", "tell me how", "tell me where",
    "tell me why", "tell me who",
)
_RHETORICAL_LIST = (
    "what a ", "what an ", "who knew", "who cares", "who knows", "guess what", "you know what", "how cool",
    "how nice", "how fun",
)
_REACTIONS = {
    "lol", "lmao", "lmfao", "rofl", "haha", "hahaha", "heh", "omg", "wow", "what", "wat", "wut", "huh", "really",
    "seriously", "srsly", "rly", "right", "wait", "eh", "hm", "hmm", "hmmm", "oh", "no", "way", "for", "real", "wtf",
    "ok", "okay", "so", "yeah", "yes",
}
_FILLERS = {
    "hey", "hi", "hello", "yo", "ok", "okay", "ah", "oh", "so", "and", "but", "also", "btw", "fwiw", "quick", "q",
    "qq", "question", "um", "uh", "hmm", "sorry", "well", "alright", "actually", "then", "team", "folks", "all",
    "guys", "everyone", "y'all", "ooh", "oooh", "hm", "lol", "haha", "wait", "yeah", "yes", "no", "nope", "yep",
    "sure", "cool", "nice", "great", "thanks", "thx", "ty", "anyway",
}
_ACKS = {
    "lol", "lmao", "lmfao", "rofl", "haha", "hahaha", "heh", "hehe", "omg", "wow", "huh", "wtf", "ty", "tysm", "thx",
    "thanks", "thank", "you", "np", "nice", "cool", "same", "yay", "woo", "oof", "ugh", "gg", "gm", "gn", "morning",
    "evening", "night", "hi", "hello", "hey", "o", "relatable", "bump", "+1", "lgtm", "great", "awesome", "sweet",
    "legend", "perfect", "phew", "ok", "okay", "k", "kk", "oh", "ah", "all", "everyone", "folks", "good",
}
_AWAY = {"brb", "afk", "bbl", "gtg", "g2g", "bbiab"}
_OPENING_WORDS = _AUXILIARIES | _QUESTION_WORDS
_SPOKEN_TO = _OPENING_WORDS | {
    "i", "i'm", "i've", "i'll", "i'd", "you", "you're", "we", "we're", "there", "there's", "it", "it's", "that",
    "that's", "this", "yes", "yeah", "yep", "yup", "no", "nope", "nah", "sure", "thanks", "thx", "ty", "please",
    "pls", "just", "try", "check", "see", "re", "ok", "okay", "any", "not",
}
_PHRASES = re.compile(r"(?<![\w'])(?:" + "|".join(map(re.escape, _PHRASE_LIST)) + r")(?![\w'])")
_RHETORICAL = re.compile(r"(?<![\w'])(?:" + "|".join(map(re.escape, _RHETORICAL_LIST)) + ")")
_VOCATIVE = re.compile(r"^([^,:;]{1,30})[,:;]\s")
_PREFIX = re.compile(r"^\s*@?([\w.\- ]{1,40}?)\s*[:,]\s+\S")
_BARE_NAME = re.compile(r"^\s*@?([\w.\-]{2,40})\s+([\w']+)")
_LEADING_MENTIONS = re.compile(r"^\s*((?:<@!?[^>|]+(?:\|[^>]*)?>[\s,:]*)+)")
_MENTION_ID = re.compile(r"<@!?([^>|]+)")


# Names that are everyday words too ("will you", "may be", "mark it"): a member called so is not named in passing.
_WORD_NAMES = _AUXILIARIES | _FILLERS | _SPOKEN_TO | {
    "art", "april", "august", "bill", "chase", "crystal", "dawn", "don", "drew", "faith", "frank", "grace", "grant",
    "guy", "hope", "hunter", "jack", "joy", "june", "max", "miles", "pat", "ray", "rich", "rose", "ruby", "sky",
    "summer", "van", "victor", "wade", "the", "a", "an", "to", "in", "on", "of", "for", "is", "it", "me", "my",
    "he", "she", "him", "her", "they", "them", "his", "us", "what", "why", "how", "who", "when", "where", "help",
    "ubuntu", "linux", "root", "user", "admin", "server", "bot",
}
_TOKEN_EDGES = ".,:;!?()[]{}<>|@\"'`*~-"


class Reading(NamedTuple):
    """Every verdict on one message's text, read in one pass (what bot.conversation asks for each message)."""

    question: bool = False
    named: str | None = None  # addressed_by_name
    leading: tuple[str, ...] = ()  # leading_mentions
    chatter: bool = False
    wordless: bool = False
    named_anywhere: tuple[str, ...] = ()  # named_in


def read(text: str | None, names: Mapping[str, str] | None = None) -> Reading:
    if not text:
        return Reading()
    names = names or {}
    cleaned = _NOISE.sub(" ", text.replace("\u2019", "'")).lower()
    words = _WORD.findall(cleaned)
    chatter = bool(words) and (words[0] in _AWAY or all(w in _ACKS for w in words))
    return Reading(_is_question(cleaned, names), addressed_by_name(text, names), tuple(leading_mentions(text)),
                   chatter, not words, named_in(text, names))


def _sentences(cleaned: str) -> list[str]:
    return [s for s in (s.strip() for s in _SENTENCE_SPLIT.split(cleaned)) if s]


def _without_vocative(sentence: str, words: list[str], names: Mapping[str, str]) -> list[str]:
    """Drop what precedes the question proper: "hey team, ...", "ok so ...", "bob, ...", "quick q: ...", "yuki is"."""
    head = _VOCATIVE.match(sentence)
    if head:
        leading = _WORD.findall(head.group(1))
        first = leading[0] if leading else ""
        if len(leading) <= 2 and first not in _QUESTION_WORDS and first not in _AUXILIARIES:
            words = words[len(leading):]
    while len(words) > 1 and (words[0] in _FILLERS or (words[0] in names and words[0] not in _OPENING_WORDS)):
        words = words[1:]
    return words


def _asks(auxiliary: str, after: str) -> bool:
    """An auxiliary followed by its subject: "can you", "is the"; not "did most of it", "do this"."""
    return after in (_PERSONS if auxiliary in _PERSON_ONLY else _SUBJECTS)


def _opens_like_question(sentence: str, words: list[str], names: Mapping[str, str]) -> bool:
    if _RHETORICAL.search(sentence):
        return False
    if _PHRASES.search(sentence):
        return True
    words = _without_vocative(sentence, words, names)
    if not words:
        return False
    first = words[0]
    after = words[1] if len(words) > 1 else ""
    if first in _QUESTION_WORDS:
        if not after or after in _CLAUSE_SUBJECTS or after in {"a", "an"}:
            return False
        if first in _CLAUSE_WORDS:
            return after in _AUXILIARIES or after == "to"
        if first == "how" and after not in _AUXILIARIES and after not in _HOW_NEXT:
            return False
        return True
    if first in _AUXILIARIES:
        return _asks(first, after)
    if first in {"anyone", "anybody"}:
        return True
    return first == "any" and after in _ANY_NEXT


def is_question(text: str | None, names: Mapping[str, str] | None = None) -> bool:
    """`names` (lower-cased member names to ids, as for addressed_by_name) lets "mira is the fix in" read as
    "mira, is the fix in"."""
    return read(text, names).question


def _is_question(cleaned: str, names: Mapping[str, str]) -> bool:
    sentences = _sentences(cleaned)
    for i, sentence in enumerate(sentences):
        words = _WORD.findall(sentence)
        if sentence.rstrip(_TRAILING).endswith("?"):
            if not words or all(w in _REACTIONS for w in words):
                continue
            if i + 1 < len(sentences) and sentences[i + 1].startswith("because"):
                continue  # asked and answered by the author: rhetorical
            return True
        if words and _opens_like_question(sentence, words, names):
            return True
    return False


def addressed_by_name(text: str | None, names: Mapping[str, str]) -> str | None:
    """The member a message names at its start ("bob: did you ...", "@bob, ...", "yuki there's ..."), if any.

    `names` maps lower-cased display names (and first names) to user ids.
    """
    if not text or not names:
        return None
    match = _PREFIX.match(text)
    if match and (user := names.get(match.group(1).strip().lower())):
        return user
    bare = _BARE_NAME.match(text.replace("\u2019", "'"))
    if bare and (word := bare.group(2).lower()) in _SPOKEN_TO:
        # "kofi did you ..." asks Kofi; "lena did most of it" speaks of Lena.
        if word in _AUXILIARIES and not _asks(word, next(iter(_WORD.findall(text[bare.end():].lower())), "")):
            return None
        name = bare.group(1).lower()
        if name not in _SPOKEN_TO and name not in _FILLERS:  # a member called "Will" or "Sure" is not named here
            return names.get(name)
    return None


def named_in(text: str | None, names: Mapping[str, str]) -> tuple[str, ...]:
    """Members whose name stands anywhere in the text, as a word of its own, each once in order: "thanks ann",
    "!grub | pabremer", "ubunoob-> passwd". Names that are everyday words ("will", "grace") are left out."""
    if not text or not names:
        return ()
    found: dict[str, None] = {}
    for token in text.lower().split():
        for key in (token, token.strip(_TOKEN_EDGES)):
            if len(key) > 1 and key not in _WORD_NAMES and (user := names.get(key)):
                found[user] = None
                break
    return tuple(found)


def leading_mentions(text: str | None) -> list[str]:
    """User ids of the <@ID> mentions a message starts with: whom it speaks to, not whom it mentions in passing."""
    if not text or "<@" not in text[:8]:
        return []
    match = _LEADING_MENTIONS.match(text)
    return _MENTION_ID.findall(match.group(1)) if match else []


def is_wordless(text: str | None) -> bool:
    """Emoji, punctuation and nothing else."""
    return read(text).wordless


def is_chatter(text: str | None) -> bool:
    return read(text).chatter
