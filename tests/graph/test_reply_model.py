"""The flat-chat reply ranker: the shipped model loads and agrees with the code's features, it reads plain cases the
way a person would, with and without text, and the training command works end to end on a small synthetic corpus.
Its quality on real chat is measured by benchmarks/real_chat.py (the data is not in the repository)."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Sequence
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
    VECTORS_FILE,
    Said,
    WordVectors,
    best,
    choose,
    features,
    load,
    models_in,
    needed,
    parents,
    read_vectors,
    shipped,
    table,
    vectors_in,
    word_vectors,
    write_vectors,
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
        assert model.ranker is not None and "Kummerfeld" in model.ranker.get_modelmeta().description
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


def _one_by_one(message: Said, candidates: Sequence[Said]) -> list[list[float]]:
    """FEATURES for each scored candidate, computed one candidate at a time straight from their definitions: what
    the batched array code in bot.graph.reply_model.table must agree with."""
    vectors = word_vectors()
    assert vectors is not None
    me, now, nan = message.author, message.ts, math.nan
    mine = [c for c in candidates if c.author == me]
    my_last = mine[-1] if mine else None
    rows: list[list[float]] = []
    scored: list[Said] = []
    for k, c in enumerate(candidates):
        after = candidates[k + 1:]
        rank = sum(a.author != me for a in candidates[k:])
        spoken = c.people
        if c.author == me or not (rank <= NEAREST or c.author in message.to | message.mentions or me in spoken):
            continue
        theirs = [a for a in candidates if a.author == c.author]
        following = [a for a in after if a.author == c.author]
        row = [
            len(candidates) - k, rank, math.log1p(max(now - c.ts, 0)), c.author in message.to,
            c.author in message.mentions, me in c.to, me in c.mentions, bool(message.to), bool(c.to),
            bool(message.to - {c.author}), bool(c.to - {me}), sum(a.author == me for a in after), len(following),
            len({a.author for a in after} - {me, c.author}),
            sum(c.author in a.people for a in mine) + sum(me in a.people for a in theirs),
            my_last is not None and c.author in my_last.people,
            me in theirs[-1].people, my_last is None,
            sum(c.author in a.people for a in after),
            nan if my_last is None else math.log1p(now - my_last.ts),
            math.log1p((following[0].ts if following else now) - c.ts),
            sum(a.author == c.author for a in candidates[:k]), k > 0 and candidates[k - 1].author == c.author,
        ]
        words, theirs_words = message.words, c.words
        shared = nan if words is None or theirs_words is None else len(words & theirs_words)
        first = message.opening
        row += [flag(message.question), flag(c.question), shared,
                nan if words is None else shared / (min(len(words), c.size) or 1) if c.size >= 0 else nan,
                nan if words is None else len(words), nan if c.size < 0 else c.size]
        row += [nan] * 5 if words is None else [flag(message.chatter), first in _ANSWER_OPENERS,
                                                first in _GREETINGS, first in _YOU, first in _IT]
        people, theirs_people = message.people, c.people
        row += [nan] * 3 if words is None or theirs_words is None else [
            c.author in message.named, me in c.named, bool(people & theirs_people - {me, c.author})]
        about_mine, about_its = (None if s.words is None else vectors.of(s.words) for s in (message, c))
        similarity = nan if about_mine is None or about_its is None else float(np.dot(about_mine, about_its))
        rows.append([float(v) for v in row] + [nan if words is None else sum(a.question is True for a in following),
                                               similarity])
        scored.append(c)
    # Then how each row stands against the message's other scored rows: all of them, and its author's.
    share = FEATURES.index("shared_share")

    def behind(row: list[float], column: int, author: str | None) -> float:
        rivals = [r[column] for r, c in zip(rows, scored, strict=True)
                  if author in (None, c.author) and not math.isnan(r[column])]
        return row[column] - max(rivals) if rivals else nan

    return [[*row[:-2], behind(row, share, c.author), row[-2], row[-1], behind(row, -1, None),
             behind(row, -1, c.author)] for row, c in zip(rows, scored, strict=True)]


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
                         rng.choice(vocab) if text else "",
                         frozenset(rng.sample(others, rng.choice([0, 0, 0, 1, 2]))) if text else frozenset()))
    return [(said[i], said[max(0, i - CANDIDATES):i]) for i in range(len(said))]


def test_the_batched_features_agree_with_their_definitions_one_candidate_at_a_time() -> None:
    batch = _random_chat(5)
    got = table(batch).x
    expected = np.array([row for message, candidates in batch for row in _one_by_one(message, candidates)])
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
    probabilities = model.scores(rows.x)
    assert model.parents(batch) == choose(batch, rows, model.ranks(rows.x), model.threshold,
                                          probabilities.__getitem__)


def test_the_ranker_picks_and_the_classifier_judges_the_pick() -> None:
    ana = said_of(msg(1, "ana", 0, "how do I mount it?"), NAMES)
    cid = said_of(msg(2, "cid", 5, "bob: lunch?"), NAMES)
    plain = said_of(msg(3, "bob", 10, "use the disks tool"), NAMES)
    addressed = said_of(msg(4, "bob", 10, "ana: use the disks tool"), NAMES)
    batch = [(plain, [ana, cid]), (addressed, [ana, cid])]
    rows = table(batch)
    ranks = np.array([2.0, 1.0, -1.0, 3.0])[: len(rows.x)]  # ana's first, then cid's, for each message
    assert rows.candidate.tolist() == [0, 1, 0, 1] and rows.addressed.tolist() == [False, False, True, False]
    row, forced = best(rows, ranks, 2)
    assert row.tolist() == [0, 2] and forced.tolist() == [False, True]  # the addressed one: ana's, whatever its rank
    judged: list[list[int]] = []

    def judge(sureness: float) -> Callable[[np.ndarray], np.ndarray]:
        def probabilities(picked: np.ndarray) -> np.ndarray:
            judged.append(picked.tolist())
            return np.full(len(picked), sureness)
        return probabilities

    assert choose(batch, rows, ranks, 0.5, judge(0.6)) == ["1", "1"]
    assert choose(batch, rows, ranks, 0.5, judge(0.4)) == [None, "1"]  # judged too unsure
    assert judged == [[0], [0]]  # only the plain message's pick is judged: the addressed one is forced
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
    # Erasing bob: his messages go, and so does his id where others spoke to or named him.
    hearing.keep("T2", [Said("10", "ana", T0, frozenset({"bob"}), frozenset({"bob", "cid"}), named=frozenset({"bob"}))])
    hearing.forget("T2", lambda person: person == "bob")
    kept = hearing.get("T2", "10")
    assert list(hearing.said) == [("T2", "10")] and kept is not None
    assert (kept.to, kept.mentions, kept.named, kept.people) == (frozenset(), {"cid"}, frozenset(), {"cid"})


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
    assert main([str(tmp_path / "data"), str(tmp_path / "molweni.json"), "--out", str(out), "--rounds", "8",
                 "--folds", str(tmp_path / "folds")]) == 0
    card = json.loads((out / "reply_model.json").read_text())
    assert card["features"] == list(FEATURES) and card["params"]["molweni_weight"] == 3
    # Two folds, each fitted on one Molweni half and measured on the other; the shipped model at their mean.
    folds = card["with_text"]["folds"]
    assert card["with_text"]["threshold"] == pytest.approx((folds["even"]["threshold"] + folds["odd"]["threshold"]) / 2)
    for half in ("even", "odd"):
        assert folds[half]["molweni_unfitted_half_links_between_people"]["f"] > 0.5  # "u0 : use ..." names the asker
        fold = models_in(tmp_path / "folds" / half)
        assert fold is not None and fold.threshold == folds[half]["threshold"]
    assert card["word_vectors"]["sha256"] == json.loads((files("bot.data") / "reply_model.json").read_text())[
        "word_vectors"]["sha256"]  # trained on the package's vectors, and says so
    model = load(out / card["with_text"]["file"], card["with_text"]["threshold"],
                 out / card["with_text"]["ranker_file"])
    assert model.ranker is not None
    question = said_of(msg(1, "ana", 0, "bob: how do I fix the driver?"), NAMES)
    noise = said_of(msg(2, "cid", 10, "dee: how do I fix the driver?"), NAMES)
    answer = said_of(msg(3, "bob", 20, "ana: yes, try the other setting"), NAMES)
    assert model.parents([(answer, [question, noise])]) == ["1"]
    assert card["with_text"]["irc_dev_links_between_people"]["f"] > 0.3  # the previous message alone: F 0.02


def test_the_word_vectors_command_writes_vectors_the_ranker_reads(tmp_path: Path) -> None:
    from training.word_vectors import main

    folder = tmp_path / "data" / "train"
    folder.mkdir(parents=True)
    topics = ["wifi wireless chipset", "nvidia driver card", "grub boot menu", "sound alsamixer muted",
              "printer cups queue", "mount disk partition", "kernel module update", "firefox browser tab"]
    nicks = ["ana", "bob", "cid"]
    lines = [f"[10:{i % 60:02d}] <{nicks[i % 3]}> {nicks[(i + 1) % 3]}: {topics[i % 8]} {topics[(i * 3) % 8]}"
             for i in range(1010)]
    (folder / "2004-01-01_00.ascii.txt").write_text("\n".join(lines))
    (folder / "2004-01-01_00.annotation.txt").write_text("".join(f"{i - 1} {i} -\n" for i in range(1001, 1010)))
    assert main([str(tmp_path / "data"), "--out", str(tmp_path), "--words", "40", "--dimensions", "4"]) == 0
    vectors = read_vectors((tmp_path / VECTORS_FILE).read_bytes())
    words = set(vectors.index)
    assert {"wifi", "driver"} <= words and not words & {"ana", "bob", "cid"}  # nicks left out
    assert vectors.vectors.shape == (len(words), 4) and len(words) <= 40
    lengths = np.linalg.norm(vectors.vectors, axis=1)
    assert 0 < lengths.min() and lengths.max() <= 1.001  # unit vectors shortened by how common the word is
    assert main([str(tmp_path / "data"), "--out", str(tmp_path), "--words", "3", "--dimensions", "4"]) == 2


def test_a_message_vector_is_its_known_words_and_the_shipped_ones_know_chat() -> None:
    vectors = WordVectors({"wifi": 0, "lunch": 1}, np.array([[3.0, 4.0], [0.0, 1.0]], np.float32))
    assert vectors.of(frozenset({"wifi", "zzz"})).tolist() == pytest.approx([0.6, 0.8])  # type: ignore[union-attr]
    assert vectors.of(frozenset({"zzz"})) is None
    shipped_vectors = word_vectors()
    assert shipped_vectors is not None

    def about(*words: str) -> np.ndarray:
        vector = shipped_vectors.of(frozenset(words))
        assert vector is not None
        return vector

    assert float(about("wifi") @ about("wireless")) > float(about("wifi") @ about("lunch")) + 0.2
    assert float(about("nvidia", "driver") @ about("nividia")) > float(about("nvidia", "driver") @ about("printer"))
    # A batch at a time: each message as alone; none for no known word or no text.
    batch = [frozenset({"wifi", "wireless"}), frozenset({"zzz"}), None, frozenset({"lunch"}), frozenset()]
    together, known = shipped_vectors.of_all(batch)
    assert known.tolist() == [True, False, False, True, False]
    assert together[0] == pytest.approx(about("wifi", "wireless"), abs=1e-6)
    assert together[3] == pytest.approx(about("lunch"), abs=1e-6) and not together[1].any()


def test_the_models_refuse_word_vectors_they_were_not_trained_with(tmp_path: Path) -> None:
    card = json.loads((files("bot.data") / "reply_model.json").read_text())
    assert card["word_vectors"]["file"] == VECTORS_FILE  # the shipped models read the shipped vectors
    (tmp_path / "reply_model.json").write_text(json.dumps({**card, "word_vectors": None}))
    assert vectors_in(tmp_path) is None
    (tmp_path / "reply_model.json").write_text(json.dumps(card))
    with pytest.raises(FileNotFoundError):
        vectors_in(tmp_path)
    write_vectors(tmp_path / VECTORS_FILE, ["wifi", "lunch"], np.eye(2, dtype=np.float32))
    with pytest.raises(ValueError, match="retrain"):
        vectors_in(tmp_path)
    (tmp_path / VECTORS_FILE).write_bytes((files("bot.data") / VECTORS_FILE).read_bytes())
    assert vectors_in(tmp_path) is not None


def test_a_reply_about_the_same_thing_in_other_words_links_past_small_talk() -> None:
    """No word is shared: the word vectors see "wireless" near "wifi", "driver" near "nvidia card". (Without them
    both replies linked to the small talk just before. Not every such reply is caught: the benchmark counts.)"""
    assert picks(msg(1, "ana", 0, "my wifi keeps dropping since the upgrade"),
                 msg(2, "cid", 20, "anyone going to the meetup tonight"),
                 msg(3, "bob", 40, "which wireless chipset? check lspci")).get("3") == "1"
    assert picks(msg(1, "ana", 0, "how do I get my nvidia card working"),
                 msg(2, "cid", 20, "good morning all"),
                 msg(3, "bob", 40, "install the proprietary driver from additional drivers")).get("3") == "1"


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


def test_a_batch_with_no_candidate_by_someone_else_links_nothing() -> None:
    alone = said_of(msg(1, "ana", 0, "anyone here?"), NAMES)
    batch = [(said_of(msg(2, "ana", 5, "hello?"), NAMES), [alone])]
    rows = table(batch)
    assert len(rows.x) == 0 and choose(batch, rows, np.zeros(0), 0.5, np.zeros(0).__getitem__) == [None]
    for with_text in (True, False):
        model = shipped(with_text)
        assert model is not None and model.parents(batch) == [None]


def test_a_name_in_passing_links_a_bot_command_for_someone_to_their_question() -> None:
    """IRC's factoid bot: "!grub | dee" asks it to tell dee about grub, answering dee's question; the name stands at
    the end, not the start, and the command is the next line but one."""
    found = picks(msg(1, "dee", 0, "my boot menu is gone after installing windows, help?"),
                  msg(2, "ana", 20, "anyone tried the new kernel"),
                  msg(3, "cid", 40, "!grub | dee"))
    assert found.get("3") == "1"


def test_bot_data_readme_gives_the_shipped_models_checksums() -> None:
    import hashlib

    data = files("bot.data")
    readme = (Path(__file__).parents[2] / "bot" / "data" / "README.md").read_text()
    for name in ("reply_model.onnx", "reply_model_rank.onnx", "reply_model_notext.onnx",
                 "reply_model_notext_rank.onnx", "word_vectors.npz"):
        assert f"`{name}` {hashlib.sha256((data / name).read_bytes()).hexdigest()}" in readme, name
