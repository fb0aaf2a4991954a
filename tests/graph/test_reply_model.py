"""The flat-chat reply ranker: the shipped model loads and agrees with the code's features, it reads plain cases the
way a person would, with and without text, and the training command works end to end on a small synthetic corpus.
Its quality on real chat is measured by benchmarks/real_chat.py (the data is not in the repository)."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from bot.events import MessagePosted
from bot.graph.conversation import RANK_BATCH, Hearing, Memory, link_all, reading
from bot.graph.reply_model import (
    _ANSWER_OPENERS,
    _GREETINGS,
    _IT,
    _YOU,
    CANDIDATES,
    FEATURES,
    NEAREST,
    Rarity,
    Said,
    best,
    choose,
    features,
    load,
    needed,
    parents,
    shipped,
    table,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NAMES = {"ana": "ana", "bob": "bob", "cid": "cid", "dee": "dee"}


def msg(mid: int, author: str, seconds: float, text: str | None, **kw: object) -> MessagePosted:
    return MessagePosted("T1", "C1", str(mid), author, T0 + timedelta(seconds=seconds), text, **kw)  # type: ignore[arg-type]


def said_of(event: MessagePosted, names: dict[str, str]) -> Said:
    return reading(event, names).said


def picks(*events: MessagePosted) -> dict[str, str]:
    """What the shipped ranker picks when the events are linked as the importer and the live path link them."""
    found: dict[str, str] = {}

    def recording(batch: Sequence[tuple[Said, Sequence[Said]]]) -> list[str | None]:
        picked = parents(batch)
        found.update({m.message_id: p for (m, _), p in zip(batch, picked, strict=True) if p})
        return picked

    list(link_all(Memory(), events, NAMES, recording))
    return found


def test_the_shipped_models_load_and_were_trained_on_these_features() -> None:
    card = json.loads((files("bot.data") / "reply_model.json").read_text())
    assert card["features"] == list(FEATURES), "FEATURES changed: retrain with python -m training.reply_model"
    for with_text in (True, False):
        model = shipped(with_text)
        assert model is not None and 0 < model.threshold < 1
        scores = model.scores(features(said_of(msg(2, "bob", 5, "yes"), NAMES),
                                       [said_of(msg(1, "ana", 0, "ok?"), NAMES)]))
        assert scores.shape == (1,) and 0 <= scores[0] <= 1
        assert "Kummerfeld" in model.session.get_modelmeta().description  # the attribution CC-BY asks for
    assert "CC-BY-4.0" in card["licence"] and "Kummerfeld" in card["licence"]


def test_an_addressed_answer_links_to_the_question_across_other_talk() -> None:
    found = picks(
        msg(1, "ana", 0, "bob: how do I rotate the staging keys?"),
        msg(2, "cid", 10, "anyone tried the new kernel yet"),
        msg(3, "dee", 20, "cid: not yet, next week"),
        msg(4, "bob", 30, "ana: run ops/rotate.sh with --env staging"),
    )
    assert found.get("4") == "1"
    assert found.get("3") == "2"


def test_a_reply_right_after_a_message_in_a_quiet_channel_links() -> None:
    found = picks(msg(1, "erin", 0, "anyone up for a lunch walk?"), msg(2, "bob", 40, "yes! meet at 12:30"))
    assert found == {"2": "1"}


def test_a_new_topic_hours_later_links_to_nothing() -> None:
    found = picks(msg(1, "ana", 0, "deploy is done"), msg(2, "bob", 5 * 3600, "hi all, is the office open friday?"))
    assert found == {}


def test_without_text_a_mention_still_links_and_text_features_fall_away() -> None:
    events = (msg(1, "ana", 0, None), msg(2, "cid", 10, None), msg(3, "bob", 20, None, mentions=("ana",)))
    said = [said_of(e, NAMES) for e in events]
    assert all(s.words is None and s.question is None for s in said)
    rows = features(said[2], said[:2])
    text_columns = [i for i, name in enumerate(FEATURES) if name in {"shared_words", "words", "is_question"}]
    assert all(rows[:, i].tolist() == [pytest.approx(float("nan"), nan_ok=True)] * 2 for i in text_columns)
    assert picks(*events).get("3") == "1"


def flag(value: bool | None) -> float:
    return math.nan if value is None else float(value)


def _one_by_one(message: Said, candidates: Sequence[Said], weights: Rarity) -> list[list[float]]:
    """FEATURES for each scored candidate, computed one candidate at a time straight from their definitions: what
    the batched array code in bot.graph.reply_model.table must agree with."""
    me, now, nan = message.author, message.ts, math.nan
    mine = [c for c in candidates if c.author == me]
    my_last = mine[-1] if mine else None
    rows = []
    for k, c in enumerate(candidates):
        after = candidates[k + 1:]
        rank = sum(a.author != me for a in candidates[k:])
        spoken = c.to | c.mentions
        if c.author == me or not (rank <= NEAREST or c.author in message.to | message.mentions or me in spoken):
            continue
        theirs = [a for a in candidates if a.author == c.author]
        following = [a for a in after if a.author == c.author]
        row = [
            len(candidates) - k, rank, math.log1p(max(now - c.ts, 0)), c.author in message.to,
            c.author in message.mentions, me in c.to, me in c.mentions, bool(message.to), bool(c.to),
            bool(message.to - {c.author}), bool(c.to - {me}), sum(a.author == me for a in after), len(following),
            len({a.author for a in after} - {me, c.author}),
            sum(c.author in a.to | a.mentions for a in mine) + sum(me in a.to | a.mentions for a in theirs),
            my_last is not None and c.author in my_last.to | my_last.mentions,
            me in theirs[-1].to | theirs[-1].mentions, my_last is None,
            sum(c.author in a.to | a.mentions for a in after),
            nan if my_last is None else math.log1p(now - my_last.ts),
            math.log1p((following[0].ts if following else now) - c.ts),
            sum(me in a.to | a.mentions for a in candidates),
        ]
        words, theirs_words = message.words, c.words
        shared = nan if words is None or theirs_words is None else len(words & theirs_words)
        first = message.opening
        row += [flag(message.question), flag(c.question), shared,
                nan if words is None else shared / (min(len(words), c.size) or 1) if c.size >= 0 else nan,
                nan if words is None else len(words), nan if c.size < 0 else c.size]
        row += [nan] * 5 if words is None else [flag(message.chatter), first in _ANSWER_OPENERS,
                                                first in _GREETINGS, first in _YOU, first in _IT]
        common = None if words is None or theirs_words is None else [weights.weight.get(w, weights.unseen)
                                                                       for w in words & theirs_words]
        row += [nan, nan] if common is None else [sum(common), max(common, default=0.0)]
        questions = nan if c.question is None else sum(bool(a.question) and a.author != me for a in after)
        row += [nan, nan, nan, questions, nan if c.question is None else c.question and questions == 0]
        rows.append([float(v) for v in row])
    # Against the message's other scored candidates: how far behind the best summed and highest rarity, the place.
    summed, highest = [r[FEATURES.index("shared_rarity")] for r in rows], [r[FEATURES.index("rarest_shared")]
                                                                          for r in rows]
    for row in rows:
        mine, top = row[FEATURES.index("shared_rarity")], row[FEATURES.index("rarest_shared")]
        row[FEATURES.index("shared_rarity_behind")] = max(v for v in summed if v == v) - mine if mine == mine else nan
        row[FEATURES.index("shared_rarity_rank")] = 1 + sum(v > mine for v in summed) if mine == mine else nan
        row[FEATURES.index("rarest_shared_behind")] = max(v for v in highest if v == v) - top if top == top else nan
    return rows



RARITY = Rarity({"kernel": 3.0, "driver": 2.5, "wifi": 2.0, "lunch": 1.5, "yes": 0.1, "you": 0.2}, 4.0)


def _random_chat(seed: int, size: int = 400) -> list[tuple[Said, list[Said]]]:
    """Messages with their candidates: busy stretches and quiet ones, some speaking to people, some without text."""
    rng = random.Random(seed)
    people = ["ana", "bob", "cid", "dee", "eve", "fay", "gus"]
    vocab = ["kernel", "driver", "wifi", "grub", "boot", "lunch", "mount", "disk", "yes", "you", "it"]
    said: list[Said] = []
    seconds = 0
    for i in range(size):
        seconds += rng.choice([1, 20, 90])
        author = rng.choice(people[:3] if i % 50 < 20 else people)
        others = [p for p in people if p != author]
        to = frozenset(rng.sample(others, rng.choice([0, 0, 0, 1, 2])))
        text = rng.random() > 0.2
        said.append(Said(str(i), author, T0 + timedelta(seconds=seconds), to,
                         to | frozenset(rng.sample(others, rng.choice([0, 0, 1]))),
                         rng.choice([True, False]) if text else None, rng.choice([True, False]) if text else None,
                         frozenset(rng.sample(vocab, rng.randrange(0, 5))) if text else None,
                         rng.choice(vocab) if text else ""))
    return [(said[i], said[max(0, i - CANDIDATES):i]) for i in range(len(said))]


def test_the_batched_features_agree_with_their_definitions_one_candidate_at_a_time() -> None:
    batch = _random_chat(5)
    got = table(batch, RARITY).x
    expected = np.array([row for message, candidates in batch for row in _one_by_one(message, candidates, RARITY)])
    assert got.shape == expected.shape == (len(expected), len(FEATURES))
    assert np.allclose(got, expected, equal_nan=True, atol=1e-5)
    assert len(expected) < sum(len(c) for _, c in batch) * 0.8  # far-off candidates by others are not scored


@pytest.mark.parametrize("with_text", [True, False])
def test_scoring_only_the_rows_that_matter_picks_what_scoring_every_row_picks(with_text: bool) -> None:
    model = shipped(with_text)
    assert model is not None
    batch = [(m, c) for m, c in _random_chat(11) if (m.words is not None) == with_text]
    rows = table(batch)
    kept = needed(rows, len(batch))
    assert 0 < len(kept.x) < len(rows.x)  # messages that speak to someone lose their other rows
    ranks = model.ranks(rows.x)
    row, _ = best(rows, ranks, len(batch))
    sure = np.where(row >= 0, model.scores(rows.x)[np.maximum(row, 0)], -np.inf)
    assert model.parents(batch) == choose(batch, rows, ranks, model.threshold, sure)


def _rows(message: Said, candidates: Sequence[Said], rarity: Rarity = RARITY) -> dict[str, dict[str, float]]:
    """Each scored candidate's features by name, keyed by the candidate's message id."""
    batch = [(message, list(candidates))]
    rows = table(batch, rarity)
    return {candidates[k].message_id: dict(zip(FEATURES, x.tolist(), strict=True))
            for k, x in zip(rows.candidate.tolist(), rows.x, strict=True)}


def test_a_shared_rare_word_outweighs_shared_common_ones_and_the_candidates_are_compared() -> None:
    rarity = Rarity({"install": 0.5, "fails": 1.0, "ubuntu": 0.3}, 6.0)  # "grub2" is not listed: rarer than all
    candidates = [said_of(msg(1, "ana", 0, "how do I install grub2?"), NAMES),
                  said_of(msg(2, "cid", 5, "install fails on ubuntu, anyone?"), NAMES),
                  said_of(msg(3, "dee", 8, "lunch?"), NAMES)]
    rows = _rows(said_of(msg(4, "bob", 10, "grub2 install fails on ubuntu"), NAMES), candidates, rarity)
    grub, common, lunch = rows["1"], rows["2"], rows["3"]
    assert common["shared_words"] == 3 > grub["shared_words"] == 2  # more words in common ...
    assert grub["shared_rarity"] == pytest.approx(6.5) and common["shared_rarity"] == pytest.approx(1.8)  # rarer
    assert grub["rarest_shared"] == pytest.approx(6.0) and common["rarest_shared"] == pytest.approx(1.0)
    assert grub["shared_rarity_rank"] == 1 and common["shared_rarity_rank"] == 2 and lunch["shared_rarity_rank"] == 3
    assert grub["shared_rarity_behind"] == 0 and common["shared_rarity_behind"] == pytest.approx(4.7)
    assert lunch["rarest_shared_behind"] == pytest.approx(6.0) and lunch["shared_rarity"] == 0


def test_the_latest_question_by_someone_else_and_who_speaks_to_me() -> None:
    candidates = [said_of(msg(1, "ana", 0, "which kernel do you run?"), NAMES),
                  said_of(msg(2, "bob", 5, "cid: how do I mount the disk?"), NAMES),
                  said_of(msg(3, "dee", 8, "cid: the wifi works now"), NAMES),
                  said_of(msg(4, "cid", 9, "is it friday?"), NAMES)]  # mine: not a question by someone else
    rows = _rows(said_of(msg(5, "cid", 12, "use the disks tool"), NAMES), candidates)
    assert rows["2"]["latest_question"] == 1 and rows["2"]["questions_after"] == 0
    assert rows["1"]["latest_question"] == 0 and rows["1"]["questions_after"] == 1
    assert rows["3"]["latest_question"] == 0  # not a question
    assert {r["candidates_to_me"] for r in rows.values()} == {2}  # bob's and dee's speak to cid
    without = _rows(Said("5", "cid", T0), [Said(c.message_id, c.author, c.at, c.to, c.mentions) for c in candidates])
    assert all(math.isnan(r["latest_question"]) and math.isnan(r["shared_rarity"]) for r in without.values())
    assert {r["candidates_to_me"] for r in without.values()} == {2}


def test_the_ranker_picks_and_the_classifier_judges_the_pick() -> None:
    ana = said_of(msg(1, "ana", 0, "how do I mount it?"), NAMES)
    cid = said_of(msg(2, "cid", 5, "bob: lunch?"), NAMES)
    plain = said_of(msg(3, "bob", 10, "use the disks tool"), NAMES)
    addressed = said_of(msg(4, "bob", 10, "ana: use the disks tool"), NAMES)
    batch = [(plain, [ana, cid]), (addressed, [ana, cid])]
    rows = table(batch, RARITY)
    ranks = np.array([2.0, 1.0, -1.0, 3.0])[: len(rows.x)]  # ana's first, then cid's, for each message
    assert rows.candidate.tolist() == [0, 1, 0, 1] and rows.addressed.tolist() == [False, False, True, False]
    row, forced = best(rows, ranks, 2)
    assert row.tolist() == [0, 2] and forced.tolist() == [False, True]  # the addressed one: ana's, whatever its rank
    assert choose(batch, rows, ranks, 0.5, np.array([0.6, 0.0])) == ["1", "1"]
    assert choose(batch, rows, ranks, 0.5, np.array([0.4, 0.0])) == [None, "1"]  # judged too unsure
    assert choose(batch, rows, ranks, 2.5) == [None, "1"]  # without a judge the rank itself must reach it


def test_said_holds_no_text_and_hearing_is_bounded_and_forgets_a_workspace() -> None:
    s = said_of(msg(1, "ana", 0, "the secret rollout plan is ready?"), NAMES)
    assert not any(isinstance(v, str) and "secret rollout" in v for v in vars(s).values())
    hearing = Hearing(limit=3)
    hearing.keep("T1", [Said(str(i), "ana", T0) for i in range(5)])
    assert [k[1] for k in hearing.said] == ["2", "3", "4"]
    hearing.keep("T2", [Said("9", "bob", T0)])
    hearing.forget("T1")
    assert list(hearing.said) == [("T2", "9")]


def test_live_batches_keep_the_words_of_the_previous_batch() -> None:
    """The live path links each batch from a stored snapshot (no text); the Hearing gives the words back."""
    first = [msg(1, "ana", 0, "how do I enable the kubernetes ingress controller"),
             msg(2, "cid", 5, "lunch anyone")]
    memory = Memory()
    list(link_all(memory, first, NAMES))
    hearing = Hearing()
    hearing.keep("T1", memory.flat[("T1", "C1")])
    seeded = Memory.seeded([o for o in memory.messages.values()], [], hearing)
    assert [s.words for s in seeded.flat[("T1", "C1")]] == [s.words for s in memory.flat[("T1", "C1")]]
    forgetful = Memory.seeded([o for o in memory.messages.values()], [])
    assert all(s.words is None for s in forgetful.flat[("T1", "C1")])


def _synthetic_irc(folder: Path, seed: int) -> None:
    """An IRC sample in the corpus format: pairs of people asking and answering, interleaved, with its links."""
    rng = random.Random(seed)
    nicks = ["ana", "bob", "cid", "dee", "eve", "fay"]
    lines, links = [], []
    open_questions: list[tuple[int, str, str]] = []
    while len(lines) < 1080:
        minute = len(lines) // 4
        stamp = f"[{minute // 60 % 24:02d}:{minute % 60:02d}]"
        if open_questions and rng.random() < 0.5:
            line, asker, addressee = open_questions.pop(rng.randrange(len(open_questions)))
            links.append((line, len(lines)))
            lines.append(f"{stamp} <{addressee}> {asker}: yes, try the other setting")
        else:
            asker, addressee = rng.sample(nicks, 2)
            links.append((len(lines), len(lines)))
            open_questions.append((len(lines), asker, addressee))
            lines.append(f"{stamp} <{asker}> {addressee}: how do I fix the driver?")
    name = f"2020-01-0{seed}_00"
    (folder / f"{name}.ascii.txt").write_text("\n".join(lines) + "\n")
    (folder / f"{name}.annotation.txt").write_text(
        "".join(f"{a} {b} -\n" for a, b in links if b >= 1000))


def test_the_training_command_writes_a_model_that_loads_and_ranks(tmp_path: Path) -> None:
    pytest.importorskip("lightgbm")
    from training.reply_model import main

    for split, seeds in (("train", (1, 2)), ("dev", (3,))):
        (tmp_path / "data" / split).mkdir(parents=True)
        for seed in seeds:
            _synthetic_irc(tmp_path / "data" / split, seed)
    dialogues = [{"edus": [{"text": "how do I mount it ?", "speaker": f"u{i}"},
                           {"text": f"u{i} : use the disks tool", "speaker": f"v{i}"}],
                  "relations": [{"x": 0, "y": 1, "type": "QAP"}]} for i in range(6)]
    (tmp_path / "molweni.json").write_text(json.dumps(dialogues))
    out = tmp_path / "model"
    out.mkdir()
    assert main([str(tmp_path / "data"), str(tmp_path / "molweni.json"), "--out", str(out), "--rounds", "8"]) == 0
    card = json.loads((out / "reply_model.json").read_text())
    assert card["features"] == list(FEATURES)
    model = load(out / card["with_text"]["file"], card["with_text"]["threshold"])
    question = said_of(msg(1, "ana", 0, "bob: how do I fix the driver?"), NAMES)
    noise = said_of(msg(2, "cid", 10, "dee: how do I fix the driver?"), NAMES)
    answer = said_of(msg(3, "bob", 20, "ana: yes, try the other setting"), NAMES)
    assert model.parents([(answer, [question, noise])]) == ["1"]
    assert card["with_text"]["irc_dev_links_between_people"]["f"] > 0.3  # the previous message alone: F 0.02


def test_the_training_command_says_what_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("lightgbm")
    from training.reply_model import main

    assert main([str(tmp_path), str(tmp_path / "nope.json")]) == 2
    assert "no annotated samples" in capsys.readouterr().err


def test_a_very_long_channel_is_ranked_in_bounded_batches_with_bounded_memory() -> None:
    sizes: list[int] = []

    def rank(batch: Sequence[tuple[Said, Sequence[Said]]]) -> list[str | None]:
        sizes.append(len(batch))
        assert all(len(candidates) <= CANDIDATES for _, candidates in batch)
        return [None] * len(batch)

    memory = Memory()
    events = [msg(i, f"u{i % 7}", i, f"status {i} of job {i % 13}") for i in range(3000)]
    assert len(list(link_all(memory, events, NAMES, rank))) == 3000
    assert len(memory.flat[("T1", "C1")]) == CANDIDATES
    assert max(sizes) <= RANK_BATCH and sum(sizes) == 2999  # every message but the first had candidates


async def test_the_live_path_keeps_words_through_commands_and_drops_them_on_a_pause() -> None:
    """Any command re-reads the workspace; only a member who stopped being tracked loses what is held of them."""
    from bot.intake.ingest import Directory
    from tests.fakes import FakeStore

    directory = Directory(FakeStore())
    await directory.get("T1")
    directory.hearing.keep("T1", [Said("1", "ana", T0, words=frozenset({"deploy"})), Said("2", "bob", T0)])
    directory.invalidate("T1")  # what every command does
    await directory.get("T1")
    assert [k[1] for k in directory.hearing.said] == ["1", "2"]
    await directory.store.privacy.pause("T1", "ana", T0)
    directory.invalidate("T1")
    await directory.get("T1")
    assert [k[1] for k in directory.hearing.said] == ["2"]
    directory.remove("T1")
    assert not directory.hearing.said


def test_word_rarity_is_counted_per_message_and_lists_no_rare_words_nor_names(tmp_path: Path) -> None:
    from training.corpora import Channel
    from training.reply_model import RARE_LEAST, rarity_counts, write_rarity

    events = [msg(i, "bob", i, "@ana: kernel panic again, kernel") for i in range(2 * RARE_LEAST)]
    events += [msg(100 + i, "cid", 100 + i, "grub broke the kernel") for i in range(RARE_LEAST)]
    events += [msg(200, "dee", 200, "zfs"), msg(201, "dee", 201, None)]
    messages, holding = rarity_counts([Channel("c", [], [replace(e, mentions=("ana",)) if e.author == "bob" else e
                                                         for e in events])])
    assert messages == 3 * RARE_LEAST + 1  # with text
    assert holding == {"kernel": 3 * RARE_LEAST, "panic": 2 * RARE_LEAST, "again": 2 * RARE_LEAST,
                       "broke": RARE_LEAST, "grub": RARE_LEAST}  # "ana" opens as a name; "zfs" is too rare
    write_rarity(messages, holding, tmp_path / "rarity.txt")
    rarity = Rarity.read((tmp_path / "rarity.txt").read_text())
    assert rarity.weight["kernel"] < rarity.weight["panic"] < rarity.weight["grub"] < rarity.unseen
    assert "ana" not in rarity.weight
    assert rarity.weight["kernel"] == pytest.approx(math.log(messages / (3 * RARE_LEAST)))
