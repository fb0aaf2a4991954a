"""Is this message a question, and does its first word name whom it is for?

The text is looked at here and nowhere else; only the verdict leaves this module.

Rules (measured on tests/fixtures; see README, "How Rapport reads chat"):
- a question mark at the end of a sentence (not inside a URL or code) makes a question;
- so does a sentence that opens like a question ("how do I", "anyone know", "can you", "is there") even
  without a mark, because chat often drops it;
- "name: ..." / "name, ..." / "@name ..." at the start addresses the message to that member.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_CODE = re.compile(r"```.*?```|`[^`]*`", re.S)
_URL = re.compile(r"<?https?://\S+>?")
_MENTION = re.compile(r"<[@#!][^>]*>")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")

_OPENERS = (
    "who", "what", "when", "where", "why", "how", "which", "whose", "whom",
    "is", "are", "am", "was", "were", "do", "does", "did", "can", "could", "would", "should", "will",
    "shall", "may", "might", "have", "has", "had", "isn't", "aren't", "don't", "doesn't", "didn't",
    "can't", "couldn't", "won't", "wouldn't", "shouldn't", "anyone", "anybody", "someone", "somebody",
)
# Openers that also start plain statements ("do this", "is done", "have fun"): they count only when a
# pronoun or determiner follows, which is how questions continue ("do you", "is it", "have we").
_AMBIGUOUS = {"do", "is", "are", "was", "were", "have", "has", "had", "will", "may", "might", "am"}
_QUESTION_SUBJECTS = {
    "i", "you", "we", "they", "he", "she", "it", "this", "that", "there", "these", "those", "anyone",
    "anybody", "someone", "somebody", "your", "our", "the", "a", "an", "any", "everyone", "y'all",
}
_PHRASES = (
    "any idea", "any ideas", "anyone know", "does anyone", "do you know", "wondering if", "wondering whether",
    "i wonder", "any thoughts", "thoughts on", "can someone", "could someone", "help me", "need help",
    "what do you think", "any tips", "any advice", "is it possible", "how come",
)
_WORD = re.compile(r"[a-z']+")
_PREFIX = re.compile(r"^\s*@?([\w.\- ]{1,40}?)\s*[:,]\s+\S")


def _clean(text: str) -> str:
    return _MENTION.sub(" ", _URL.sub(" ", _CODE.sub(" ", text)))


def is_question(text: str | None) -> bool:
    if not text:
        return False
    cleaned = _clean(text).strip()
    if not cleaned:
        return False
    for sentence in _SENTENCE_SPLIT.split(cleaned):
        sentence = sentence.strip().lower()
        if not sentence:
            continue
        if sentence.rstrip(" )\"'").endswith("?"):
            return True
        words = _WORD.findall(sentence)
        if not words:
            continue
        # Skip a leading vocative ("bob, can you ...", "hey team what ...").
        start = 0
        while start < len(words) - 1 and start < 3 and words[start] not in _OPENERS:
            start += 1
        first = words[start]
        if first in _OPENERS:
            if first not in _AMBIGUOUS:
                return True
            if start + 1 < len(words) and words[start + 1] in _QUESTION_SUBJECTS:
                return True
        if any(phrase in sentence for phrase in _PHRASES):
            return True
    return False


def addressed_by_name(text: str | None, names: Mapping[str, str]) -> str | None:
    """The member a message names at its start ("bob: did you ...", "@bob, ..."), if any.

    `names` maps lower-cased display names (and first names) to user ids.
    """
    if not text:
        return None
    match = _PREFIX.match(text)
    if not match:
        return None
    return names.get(match.group(1).strip().lower())
