"""Is this message a question, whom does it speak to at its start, and is it mere chatter?

The text is looked at here and nowhere else; only the verdicts leave this module. Measured on labelled transcripts
(benchmarks/question_graph.py, fixtures in benchmarks/data/chat).

A message is a question when one of its sentences (code, URLs, mentions and :emoji: codes removed; a leading
"hey", "ok so", "bob," or "quick q:" skipped) is one:
- it ends with a question mark, unless every word in it is a reaction ("lol what?", "wait, really?", "huh?")
  or the message answers it itself in the next sentence ("Why? Because ...");
- or, without a mark because chat drops it, it opens like a question:
  - a question word followed by something other than a subject pronoun: "what's the policy", "who owns",
    "how long"; but not "what I meant", "how we fixed it", "what a week", "who knew", "who cares";
    "when" and "where" only with a verb after them ("when is", "where do"), as they mostly open clauses;
  - an auxiliary followed by its subject: "can you", "is there", "does the", "did anyone", "should we";
    but not "could be worse", "will do", "can't believe", "do this first", "have a good one";
  - "anyone"/"anybody" first ("anyone know", "anyone up for"), or "any idea(s)/thoughts/tips/chance";
  - a phrase that asks wherever it stands: "does anyone know", "can someone", "wondering if", "i wonder",
    "what do you think", "is it possible", "how come".

A message speaks to a member at its start (`addressed_by_name`) with "name: ...", "name, ...", "@name ..." or a
bare "name" followed by a word that opens a sentence spoken to someone ("yuki there's a flag", "kofi did you",
"jonas yes!"); `names` maps lower-cased display names and first names to user ids. `leading_mentions` are the
platform mentions (<@ID>) the text starts with: the people it speaks to, as opposed to those it mentions in passing
("tag <@gus>, he approves those").

Chatter (`is_chatter`) answers nobody: a message made only of reactions, thanks, greetings and away notices ("lol",
"ty!", "brb dinner", "thanks, that did it"); `is_wordless` is one with no words at all (emoji only), which answers
only inside a thread or as a reply, where a thumbs-up to "12:30 ok?" means yes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)
_URL = re.compile(r"<?https?://[^\s>]+(\|[^>]*)?>?")
_MENTION = re.compile(r"<[@#!][^>]*>")
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]+:")
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
_PHRASES = (
    "does anyone know", "does anybody know", "do you know", "do you guys know", "anyone know", "can someone",
    "could someone", "can anyone", "could anyone", "can somebody", "wondering if", "wondering whether",
    "i wonder", "what do you think", "what do you guys think", "is it possible", "how come", "any idea",
    "would you mind", "do you mind",
)
_RHETORICAL = (
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
_THANKS = {"thanks", "thank", "ty", "tysm", "thx", "cheers"}
_AWAY = {"brb", "afk", "bbl", "gtg", "g2g", "bbiab"}
_SPOKEN_TO = _AUXILIARIES | _QUESTION_WORDS | {
    "i", "i'm", "i've", "i'll", "i'd", "you", "you're", "we", "we're", "there", "there's", "it", "it's", "that",
    "that's", "this", "yes", "yeah", "yep", "yup", "no", "nope", "nah", "sure", "thanks", "thx", "ty", "please",
    "pls", "just", "try", "check", "see", "re", "ok", "okay", "any", "not",
}
_PREFIX = re.compile(r"^\s*@?([\w.\- ]{1,40}?)\s*[:,]\s+\S")
_BARE_NAME = re.compile(r"^\s*@?([\w.\-]{2,40})\s+([\w']+)")
_LEADING_MENTIONS = re.compile(r"^\s*((?:<@!?[^>|]+(?:\|[^>]*)?>[\s,:]*)+)")
_MENTION_ID = re.compile(r"<@!?([^>|]+)")


def _clean(text: str) -> str:
    text = text.replace("\u2019", "'")
    return _EMOJI_CODE.sub(" ", _MENTION.sub(" ", _URL.sub(" ", _CODE.sub(" ", text))))


def _sentences(text: str) -> list[str]:
    return [s.strip().lower() for s in _SENTENCE_SPLIT.split(_clean(text)) if s.strip()]


def _without_vocative(sentence: str, words: list[str]) -> list[str]:
    """Drop what precedes the question proper: "hey team, ...", "ok so ...", "bob, ...", "quick q: ..."."""
    head = re.match(r"^([^,:;]{1,30})[,:;]\s", sentence)
    if head:
        leading = _WORD.findall(head.group(1))
        first = leading[0] if leading else ""
        if len(leading) <= 2 and first not in _QUESTION_WORDS and first not in _AUXILIARIES:
            words = words[len(leading):]
    while len(words) > 1 and words[0] in _FILLERS:
        words = words[1:]
    return words


def _opens_like_question(sentence: str, words: list[str]) -> bool:
    if any(sentence.startswith(r) or f" {r}" in f" {sentence}" for r in _RHETORICAL):
        return False
    if any(phrase in f" {sentence} " for phrase in (f" {p} " for p in _PHRASES)):
        return True
    words = _without_vocative(sentence, words)
    if not words:
        return False
    first = words[0]
    after = words[1] if len(words) > 1 else ""
    if first in _QUESTION_WORDS:
        if not after or after in _CLAUSE_SUBJECTS or after in {"a", "an"}:
            return False
        if first in _CLAUSE_WORDS:
            return after in _AUXILIARIES
        if first == "how" and after not in _AUXILIARIES and after not in _HOW_NEXT:
            return False
        return True
    if first in _AUXILIARIES:
        return after in (_PERSONS if first in _PERSON_ONLY else _SUBJECTS)
    if first in {"anyone", "anybody"}:
        return True
    return first == "any" and after in _ANY_NEXT


def is_question(text: str | None) -> bool:
    if not text:
        return False
    sentences = _sentences(text)
    for i, sentence in enumerate(sentences):
        words = _WORD.findall(sentence)
        if sentence.rstrip(_TRAILING).endswith("?"):
            if not words or all(w in _REACTIONS for w in words):
                continue
            if i + 1 < len(sentences) and sentences[i + 1].startswith("because"):
                continue  # asked and answered by the author: rhetorical
            return True
        if words and _opens_like_question(sentence, words):
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
    if bare and bare.group(2).lower() in _SPOKEN_TO:
        name = bare.group(1).lower()
        if name not in _SPOKEN_TO and name not in _FILLERS:  # a member called "Will" or "Sure" is not named here
            return names.get(name)
    return None


def leading_mentions(text: str | None) -> list[str]:
    """User ids of the <@ID> mentions a message starts with: whom it speaks to, not whom it mentions in passing."""
    if not text:
        return []
    match = _LEADING_MENTIONS.match(text)
    return _MENTION_ID.findall(match.group(1)) if match else []


def is_wordless(text: str | None) -> bool:
    """Emoji, punctuation and nothing else."""
    return bool(text) and not _WORD.search(_clean(text or "").lower())


def is_chatter(text: str | None) -> bool:
    if not text:
        return False
    words = _WORD.findall(_clean(text).lower())
    if not words:
        return False
    if words[0] in _AWAY or all(w in _ACKS for w in words):
        return True
    return len(words) <= 8 and any(w in _THANKS for w in words) and "?" not in text
