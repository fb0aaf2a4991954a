"""How well Rapport reads real chat that humans annotated and nobody here wrote.

Run: python benchmarks/real_chat.py IRC_DATA MOLWENI_DEV_JSON [--no-product] [--folds DIR]
     [--errors | --live BATCH | --speed FILES [--speed-only]]

IRC_DATA is the `data` folder of jkkummerfeld/irc-disentanglement (only dev/ is read here);
MOLWENI_DEV_JSON is HIT-SCIR/Molweni's DP/dev.json. The shipped model fitted all its dialogues, so Rapport is
measured on it two-fold, in process: each half read by the fold model fitted on the other (`python -m
training.reply_model IRC_DATA MOLWENI_DEV_JSON --folds DIR` writes them; pass the same --folds DIR here). Test
splits are never read (they are held out).

Three readers of the same chat, in the same run:
- "Rapport" is the product: every channel written as DiscordChatExporter JSON (unthreaded, no reply references,
  a leading "nick:" as an @mention), then `rapport import discord-export` and `rapport graph --json` in a fresh
  SQLite database, channels that share no nick imported together as one server. Its message-level links come
  from the same code in process (link_all with the shipped ranker); the script warns if the pairs differ.
- "previous rules" are bot/conversation.py (now bot/graph/) as it was before the ranker (commit PREVIOUS, from git).
- "baseline": the previous message by someone else is the parent; a question's answerer is the next other speaker.

--errors reads only Molweni's even half, with the shipped model (which fitted it): its answered edges' errors by
kind, and the same answer rules on the annotators' own reply links (how much is lost to the ranker's links rather
than to the answer rules).

Measures: reply links between different people (P/R/F of (message, parent)); contact pairs (two people are in
contact when a human link joins their messages; predicted: any pair the graph shows above strangers); answered
asker -> answerer edges (Molweni: a Question-answer_pair from one speaker's utterance to another's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import types
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, partial
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from benchmarks.from_git import module_at
from bot.graph import reply_model
from bot.graph.conversation import Memory, Outcome, Ranker, link_all, reading
from bot.graph.questions import is_question
from bot.intake.ingest import name_index
from training.corpora import Channel, Dialogue, irc_files, molweni_half, read_irc, read_molweni

ROOT = Path(__file__).resolve().parents[1]
PREVIOUS = "c744546"  # the last commit with the adjacency rules

Pair = tuple[str, str, str]  # (channel name, user, user), users sorted
Edge = tuple[str, str, str]  # (channel name, asker, answerer)
LinkKey = tuple[str, str, str]  # (channel name, message, parent)


@dataclass
class Reading:
    links: set[LinkKey]
    pairs: set[Pair]
    edges: set[Edge]


def pair(name: str, a: str, b: str) -> Pair:
    return (name, a, b) if a <= b else (name, b, a)


def prf(found: set, gold: set) -> tuple[float, float, float]:
    hit = len(found & gold)
    p = hit / len(found) if found else 0.0
    r = hit / len(gold) if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def gold_of(channels: Sequence[Channel], qa: dict[str, set[tuple[str, str]]] | None = None) -> Reading:
    links, pairs, edges = set(), set(), set()
    for c in channels:
        author = {e.message_id: e.author for e in c.events}
        for child, parent in c.links:
            if child in author and parent in author and author[child] != author[parent]:
                links.add((c.name, child, parent))
                pairs.add(pair(c.name, author[child], author[parent]))
        for question, answer in (qa or {}).get(c.name, ()):
            if author[question] != author[answer]:
                edges.add((c.name, author[question], author[answer]))
    return Reading(links, pairs, edges)


def recorded(picked: dict[str, str], rank: Ranker | None = None) -> Ranker:
    """The shipped ranker (or `rank`), noting each pick in `picked`: message id -> the id it replies to."""
    def recording(batch: Sequence[tuple[reply_model.Said, Sequence[reply_model.Said]]]) -> list[str | None]:
        parents = (rank or reply_model.parents)(batch)
        picked.update({m.message_id: p for (m, _), p in zip(batch, parents, strict=True) if p})
        return parents

    return recording


def rapport_in_process(channels: Sequence[Channel], rank: Ranker | None = None) -> Reading:
    reading = Reading(set(), set(), set())
    for c in channels:
        picked: dict[str, str] = {}
        recording = recorded(picked, rank)

        outcomes = list(link_all(Memory(), c.events, name_index(c.members), recording))
        reading.links |= {(c.name, child, parent) for child, parent in picked.items()}
        _collect(c, outcomes, reading)
    return reading


def _collect(c: Channel, outcomes: list[Outcome], reading: Reading) -> None:
    askers = {q.message_id: q.asker for o in outcomes for q in o.questions}
    for o in outcomes:
        for contact in o.contacts:
            reading.pairs.add(pair(c.name, contact.source, contact.target))
        for q in o.questions:
            if q.addressee:
                reading.pairs.add(pair(c.name, q.asker, q.addressee))
        for a in o.answers:
            reading.edges.add((c.name, askers[a.question_id], a.answerer))


def previous_rules() -> types.ModuleType:
    """bot/conversation.py as of PREVIOUS, loaded from git as a module of its own, with the bot/questions.py of the
    same commit (both have moved since: the baseline must not pick up today's question reading)."""
    module_at(PREVIOUS, "bot/questions.py", "previous_questions")
    return module_at(PREVIOUS, "bot/conversation.py", "previous_conversation",
                     {"from bot.questions import": "from previous_questions import"})


def previous_reading(channels: Sequence[Channel]) -> Reading:
    old = previous_rules()
    reading = Reading(set(), set(), set())
    for c in channels:
        memory, names, outcomes = old.Memory(), name_index(c.members), []
        author = {e.message_id: e.author for e in c.events}
        for event in c.events:
            outcome = old.link(event, memory.window(event), names)
            memory.remember(outcome)
            outcomes.append(outcome)
            # its message-level "links": the message an answer answers, else the adjacent message it chats with
            for a in outcome.answers:
                reading.links.add((c.name, event.message_id, a.question_id))
            if not outcome.answers:
                recent = memory.window(event).recent
                chat = [x for x in outcome.contacts if x.kind == "chat"]
                if chat and recent:
                    before = [m for m in recent if m.message_id != event.message_id and m.at <= event.at]
                    if before and author.get(before[-1].message_id) != event.author:
                        reading.links.add((c.name, event.message_id, before[-1].message_id))
        _collect(c, outcomes, reading)
    return reading


def baseline(channels: Sequence[Channel]) -> Reading:
    reading = Reading(set(), set(), set())
    for c in channels:
        names = name_index(c.members)
        for i, event in enumerate(c.events):
            previous = next((p for p in reversed(c.events[:i]) if p.author != event.author), None)
            if previous:
                reading.links.add((c.name, event.message_id, previous.message_id))
                reading.pairs.add(pair(c.name, event.author, previous.author))
            for m in event.mentions:
                if m != event.author:
                    reading.pairs.add(pair(c.name, event.author, m))
            if is_question(event.text, names):
                answerer = next((n for n in c.events[i + 1:] if n.author != event.author), None)
                if answerer:
                    reading.edges.add((c.name, event.author, answerer.author))
    return reading


def guilds(channels: Sequence[Channel]) -> list[list[int]]:
    """Channels grouped so that no nick appears in two channels of a group: each group is imported as one Discord
    server, and a nick seen in two places would be two members with one name, whom no "nick:" can address."""
    groups: list[tuple[set[str], list[int]]] = []
    for n, c in enumerate(channels):
        nicks = {m.name.lower() for m in c.members}
        group = next((g for g in groups if not g[0] & nicks), None)
        if group is None:
            group = (set(), [])
            groups.append(group)
        group[0].update(nicks)
        group[1].append(n)
    return [g[1] for g in groups]


def user_id(n: int, uid: str) -> str:
    return str(10 ** 15 * (n + 1) + int(uid))


def export(channels: Sequence[Channel], members: Sequence[int], guild: str, folder: Path) -> None:
    """Channels `members` as DiscordChatExporter files of one guild; user and message ids unique per channel. Each
    channel is moved in time to end yesterday: the import keeps nothing older than the retention (a year)."""
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for n in members:
        c = channels[n]
        names = {m.user_id: m.name for m in c.members}
        shift = yesterday - max(e.at for e in c.events)
        messages = [{
            "id": user_id(n, e.message_id), "type": "Default", "timestamp": (e.at + shift).isoformat(),
            "content": e.text or "",
            "author": {"id": user_id(n, e.author), "name": names[e.author], "isBot": False},
            "mentions": [{"id": user_id(n, m), "name": names[m], "isBot": False} for m in e.mentions],
        } for e in c.events]
        doc = {"guild": {"id": guild, "name": "bench"},
               "channel": {"id": str(700_000 + n), "type": "GuildTextChat", "name": c.name},
               "messages": messages}
        (folder / f"{n:05d}.json").write_text(json.dumps(doc))


def rapport_product(channels: Sequence[Channel]) -> Reading:
    """Pairs and answered edges through `rapport import discord-export` and `rapport graph --json`."""
    rapport = [str(Path(sys.executable).with_name("rapport"))]
    owner = {user_id(n, m.user_id): (c.name, m.user_id) for n, c in enumerate(channels) for m in c.members}
    reading = Reading(set(), set(), set())
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RAPPORT_DATABASE_URL": f"sqlite:///{tmp}/bench.db", "RAPPORT_ENV": "development"}
        for g, members in enumerate(guilds(channels)):
            guild, folder = str(900_000_000_000_000_001 + g), Path(tmp) / f"export{g}"
            folder.mkdir()
            export(channels, members, guild, folder)
            subprocess.run([*rapport, "import", "discord-export", str(folder)], env=env, cwd=tmp, check=True,
                           capture_output=True)
            graph = json.loads(subprocess.run([*rapport, "graph", "--json", "--workspace", guild], env=env, cwd=tmp,
                                              check=True, capture_output=True, text=True).stdout)
            for row in graph:
                (name, a), (_, b) = owner[row["a"]], owner[row["b"]]
                if row["stage"] != "strangers":
                    reading.pairs.add(pair(name, a, b))
                if row.get("answered_ab"):
                    reading.edges.add((name, a, b))
                if row.get("answered_ba"):
                    reading.edges.add((name, b, a))
    return reading


def row(table: Table, name: str, found: Reading, gold: Reading, edges: bool,
        channels: Sequence[Channel] | None = None) -> None:
    cells = [name]
    for what in ("links", "pairs", *(["edges"] if edges else [])):
        p, r, f = prf(getattr(found, what), getattr(gold, what))
        cells.append(f"{p:.3f} / {r:.3f} / {f:.3f}")
    if channels is not None:
        p, r, f = prf(every_link(found.links, channels), every_gold_link(channels))
        cells.append(f"{p:.3f} / {r:.3f} / {f:.3f}")
    table.add_row(*cells)


def every_link(links: set[LinkKey], channels: Sequence[Channel]) -> set[LinkKey]:
    """Kummerfeld et al.'s measure counts every message's link: one given no parent links to itself."""
    linked = {(name, child) for name, child, _ in links}
    return links | {(c.name, m, m) for c in channels for m in c.annotated if (c.name, m) not in linked}


def every_gold_link(channels: Sequence[Channel]) -> set[LinkKey]:
    """Every annotated link: to another person, to one's own earlier message, or to itself (a new conversation)."""
    return ({(c.name, child, parent) for c in channels for child, parent in c.links if child in c.annotated}
            | {(c.name, m, m) for c in channels for m in c.starts})


def cross_validated(dialogues: Sequence[Channel], folds: Path, qa: dict[str, set[tuple[str, str]]] | None
                    ) -> tuple[Reading, list[tuple[str, Reading, Reading]]]:
    """Molweni read two-fold: each half by the fold model fitted on the other (training/reply_model.py --folds).
    The reading of all dialogues, and per half (name, reading, gold)."""
    every, halves = Reading(set(), set(), set()), []
    for fitted, read in (("even", False), ("odd", True)):
        models = cache(partial(reply_model.models_in, folds / fitted))
        channels = molweni_half(dialogues, fit=read)
        found = rapport_in_process(channels, partial(reply_model.parents, models=models))
        halves.append((f"{'odd' if fitted == 'even' else 'even'} half, by the model fitted on the {fitted}", found,
                       gold_of(channels, qa)))
        for what in ("links", "pairs", "edges"):
            getattr(every, what).update(getattr(found, what))
    return every, halves


def report(title: str, channels: Sequence[Channel], gold: Reading, product: bool,
           qa: dict[str, set[tuple[str, str]]] | None = None, folds: Path | None = None) -> Table:
    """With `folds`, Molweni: Rapport's reading is two-fold (cross_validated), in process."""
    edges = qa is not None
    every = None if edges else channels  # Molweni annotates no conversation starts
    table = Table(title=title)
    for column in ("reader", "reply links P / R / F", "contact pairs P / R / F",
                   *(["answered asker->answerer P / R / F"] if edges else []),
                   *([] if edges else ["every link, self-links included (Kummerfeld et al.'s measure)"])):
        table.add_column(column)
    if folds:
        ours, halves = cross_validated(channels, folds, qa)
        row(table, "Rapport (reply ranker), two-fold: each half read by the model fitted on the other", ours, gold,
            edges)
        for name, found, half_gold in halves:
            row(table, f"  {name}", found, half_gold, edges)
    elif not edges:  # (on Molweni without its folds Rapport is not measured: the shipped model fitted it all)
        ours = rapport_in_process(channels)
        if product:
            shipped = rapport_product(channels)
            if shipped.pairs != ours.pairs:
                # Channels are imported several to a server, and a server's member names are shared: a nick from
                # another channel of the same import can address a message there (in process, names are per
                # channel).
                print(f"note: product and in-process pairs differ by {len(shipped.pairs ^ ours.pairs)} "
                      "(names are server-wide in the product)")
            ours = Reading(ours.links, shipped.pairs, shipped.edges)
        row(table, "Rapport (reply ranker)" + (", through rapport import" if product else ""), ours, gold, edges,
            every)
    row(table, f"previous rules ({PREVIOUS})", previous_reading(channels), gold, edges, every)
    row(table, "baseline: previous other speaker / addressed nick", baseline(channels), gold, edges, every)
    return table


def questions(dialogues: Sequence[Dialogue]) -> Table:
    """Question detection against what Molweni's annotators saw as questions (the first of a question-answer pair,
    a clarification or follow-up question), on all 500 dev dialogues: bot/graph/questions.py fits nothing on Molweni."""
    table = Table(title=f"Questions on Molweni dev: {len(dialogues)} dialogues, "
                        f"{sum(len(d.questions) for d in dialogues):,} annotated questions")
    for column in ("detector", "precision", "recall", "F"):
        table.add_column(column)
    gold = {(d.channel.name, m) for d in dialogues for m in d.questions}
    ours, marks = set(), set()
    for d in dialogues:
        names = name_index(d.channel.members)
        for e in d.channel.events:
            if is_question(e.text, names):
                ours.add((d.channel.name, e.message_id))
            if e.text and "?" in e.text:
                marks.add((d.channel.name, e.message_id))
    for label, found in (("bot/graph/questions.py", ours), ("baseline: contains a question mark", marks)):
        p, r, f = prf(found, gold)
        table.add_row(label, f"{p:.2f}", f"{r:.2f}", f"{f:.2f}")
    return table


def annotated(channel: Channel) -> Ranker:
    """A ranker that picks what the annotators linked (the latest of a message's annotated parents by someone else
    among its candidates): the answer rules read on perfect reply links."""
    parents: dict[str, list[str]] = {}
    for child, parent in channel.links:
        parents.setdefault(child, []).append(parent)

    def rank(batch: Sequence[tuple[reply_model.Said, Sequence[reply_model.Said]]]) -> list[str | None]:
        picks: list[str | None] = []
        for message, candidates in batch:
            linked = set(parents.get(message.message_id, ()))
            picks.append(next((c.message_id for c in reversed(candidates)
                               if c.message_id in linked and c.author != message.author), None))
        return picks

    return rank


def answer_errors(dialogues: Sequence[Dialogue]) -> Table:
    """Answered edges on Molweni dialogues read apart: each false edge by how the annotators saw the reply it rests
    on (its first answer), each missed edge by the first reason its first annotated answer was not taken; and the
    same answer rules on the annotators' own reply links. Run on the fitting (even) half to choose what to change."""
    false: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    found = {"reply ranker": [0, 0, 0], "the annotators' reply links": [0, 0, 0]}  # true, false, missed edges
    for d in dialogues:
        c = d.channel
        author = {e.message_id: e.author for e in c.events}
        gold: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for q, answer_id in sorted(d.qa):
            if author[q] != author[answer_id]:
                gold.setdefault((author[q], author[answer_id]), []).append((q, answer_id))
        picked: dict[str, str] = {}
        recording = recorded(picked)
        for label, ranker in (("reply ranker", recording), ("the annotators' reply links", annotated(c))):
            outcomes = list(link_all(Memory(), c.events, name_index(c.members), ranker))
            edges: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for o in outcomes:
                for a in o.answers:
                    edges.setdefault((author[a.question_id], a.answerer), []).append((a.question_id, a.answer_id))
            counts = found[label]
            counts[0] += len(edges.keys() & gold.keys())
            counts[1] += len(edges.keys() - gold.keys())
            counts[2] += len(gold.keys() - edges.keys())
            if label == "reply ranker":
                false.update(_why_false(d, *edges[edge][0]) for edge in edges.keys() - gold.keys())
                asked = {o.message.message_id for o in outcomes if o.message.is_question}
                missed.update(_why_missed(d, asked, picked, *gold[edge][0]) for edge in gold.keys() - edges.keys())
    table = Table(title=f"Answered edges read apart: {len(dialogues)} Molweni dialogues")
    for column in ("edges", "count"):
        table.add_column(column)
    for label, (hit, wrong, lost) in found.items():
        p, r = hit / max(hit + wrong, 1), hit / max(hit + lost, 1)
        table.add_row(f"answer rules on {label}: P / R / F", f"{p:.3f} / {r:.3f} / {2 * p * r / (p + r or 1):.3f}")
    for title, counter in (("false", false), ("missed", missed)):
        for kind, n in counter.most_common():
            table.add_row(f"{title}: {kind}", str(n))
    return table


def _why_false(d: Dialogue, question: str, answer: str) -> str:
    kind = d.relations.get((answer, question))
    if kind:
        return f"the annotators link the reply to the question as {kind}"
    elsewhere = [t for (child, _), t in d.relations.items() if child == answer]
    return ("the reply answers another question" if "QAP" in elsewhere else
            "the reply replies to another message" if elsewhere else "the reply replies to nothing")


def _why_missed(d: Dialogue, asked: set[str], picked: dict[str, str], question: str, answer: str) -> str:
    event = next(e for e in d.channel.events if e.message_id == answer)
    said = reading(event, name_index(d.channel.members))
    pick = picked.get(answer)
    if question not in asked:
        return "the question is not read as one"
    if pick is None:
        return "the ranker gives the answer no parent"
    if pick != question:
        return "the ranker links the answer to another message"
    return ("the answer is chatter" if said.chatter or said.wordless else
            "the answer is a question" if said.question else
            "the answer speaks to someone else" if said.spoken_to else
            "the question was put to someone else, or answered already")


def speed(files: Sequence[Path]) -> Table:
    """History import of IRC-shaped chat (every message flat, 30 candidates each) into a fresh SQLite store, with the
    ranker and, as the baseline in the same run, with it switched off (every pick None)."""
    import asyncio
    import time
    from dataclasses import replace

    from bot.intake.ingest import ingest_history, workers
    from storage.store import SqlStore

    channels = [read_irc(f) for f in files]
    # One workspace, a channel per file; ids made unique per file.
    events = sorted((replace(e, workspace="1", channel=str(n), message_id=f"{n}:{e.message_id}",
                             author=f"{n}:{e.author}", mentions=tuple(f"{n}:{m}" for m in e.mentions))
                     for n, c in enumerate(channels) for e in c.events), key=lambda e: e.at)
    names = {m.name.lower(): f"{n}:{m.user_id}" for n, c in enumerate(channels) for m in c.members}
    table = Table(title=f"History import, IRC-shaped: {len(events):,} messages from {len(files)} IRC train files, "
                        "SQLite")
    # CPU seconds too: wall time on a 2-core machine shared with other work says more about the neighbours.
    for column in ("reader", "seconds", "messages/s", "CPU seconds", "messages per CPU second"):
        table.add_column(column)
    original = reply_model.parents
    # The baseline's switch reaches only this process, so it and the ranker are timed here in one process, then the
    # ranker as `rapport import` runs it (linking in workers() processes; CPU seconds: this process's alone).
    for label, ranker, processes in (("no ranker (baseline), one process", lambda batch: [None] * len(batch), 1),
                                     ("reply ranker, one process", original, 1),
                                     (f"reply ranker, {workers()} linking processes", original, None)):
        reply_model.parents = ranker  # type: ignore[assignment]
        with tempfile.TemporaryDirectory() as tmp:
            async def run(url: str = f"sqlite:///{tmp}/speed.db", processes: int | None = processes
                          ) -> tuple[float, float]:
                store = await SqlStore.open(url)
                started, cpu = time.perf_counter(), time.process_time()
                await ingest_history(store, events, names, processes=processes)
                elapsed = time.perf_counter() - started, time.process_time() - cpu
                await store.close()
                return elapsed

            (elapsed, cpu) = asyncio.run(run())
        table.add_row(label, f"{elapsed:.1f}", f"{len(events) / elapsed:,.0f}", f"{cpu:.1f}",
                      f"{len(events) / cpu:,.0f}")
    reply_model.parents = original
    return table


def live(channels: Sequence[Channel], batch: int) -> Table:
    """The live path (bot.intake.ingest over a SQLite store), batches of `batch` messages as events arrive. In one
    process its memory keeps each message's reading (words included) for the next batches; a new process (here: every
    batch, the worst case) has only what is stored: ids, times, question or not, and whom each message speaks to or
    names. The baseline in the same run does not read that last part back (as before it was stored)."""
    import asyncio
    from unittest import mock

    from bot.intake.ingest import Directory, ingest
    from storage.graph import SqlGraph
    from storage.store import SqlStore

    gold = gold_of(channels)
    table = Table(title=f"Live path on IRC dev, {batch} messages a batch, SQLite")
    for column in ("reader", "reply links P / R / F", "contact pairs P / R / F"):
        table.add_column(column)

    async def read(fresh: bool) -> Reading:
        reading, picked = Reading(set(), set(), set()), dict[str, str]()
        recording = recorded(picked, reply_model.parents)  # the live path calls reply_model.parents: this, now
        with tempfile.TemporaryDirectory() as tmp, mock.patch.object(reply_model, "parents", recording):
            store = await SqlStore.open(f"sqlite:///{tmp}/live.db")
            record, outcomes = store.graph.record, list[Outcome]()

            async def keep(new: Sequence[Outcome]) -> int:
                outcomes.extend(new)
                return int(await record(new))

            store.graph.record = keep  # type: ignore[method-assign,assignment]
            for c in channels:
                outcomes.clear()
                picked.clear()
                await store.members.upsert(c.members)
                directory = Directory(store)
                for i in range(0, len(c.events), batch):
                    await ingest(store, Directory(store) if fresh else directory, c.events[i:i + batch])
                reading.links |= {(c.name, child, parent) for child, parent in picked.items()}
                _collect(c, outcomes, reading)
            await store.close()
        return reading

    def cells(found: Reading) -> list[str]:
        return [" / ".join(f"{v:.2f}" for v in prf(getattr(found, what), getattr(gold, what)))
                for what in ("links", "pairs")]

    table.add_row("one process", *cells(asyncio.run(read(False))))
    table.add_row("a new process every batch", *cells(asyncio.run(read(True))))
    with mock.patch.object(SqlGraph, "_addressed", staticmethod(lambda session, workspace, messages: _same(messages))):
        table.add_row("a new process every batch, whom messages speak to not read back (baseline)",
                      *cells(asyncio.run(read(True))))
    return table


async def _same(messages: list[Any]) -> list[Any]:
    return messages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("irc", type=Path, help="irc-disentanglement's data folder (dev/ is read)")
    parser.add_argument("molweni", type=Path, help="Molweni's DP/dev.json")
    parser.add_argument("--no-product", action="store_true", help="in process only (no rapport import)")
    parser.add_argument("--speed", type=int, metavar="FILES", help="also time a history import of FILES train files")
    parser.add_argument("--speed-only", action="store_true", help="with --speed: only the timing")
    parser.add_argument("--live", type=int, metavar="BATCH", help="only the live path on IRC dev, BATCH a batch")
    parser.add_argument("--folds", type=Path, metavar="DIR",
                        help="the fold models of `python -m training.reply_model ... --folds DIR`: Molweni two-fold")
    parser.add_argument("--errors", action="store_true",
                        help="only the answered edges of Molweni's even half, errors by kind")
    args = parser.parse_args(argv)
    console = Console()
    if args.live:
        console.print(live([read_irc(f, only_annotated=True) for f in irc_files(args.irc / "dev")], args.live))
        return 0
    if args.errors:
        dialogues = list(read_molweni(args.molweni))
        fitting = {c.name for c in molweni_half([d.channel for d in dialogues], fit=True)}
        console.print(answer_errors([d for d in dialogues if d.channel.name in fitting]))
        return 0
    if args.speed:
        console.print(speed(irc_files(args.irc / "train")[:args.speed]))
        if args.speed_only:
            return 0
    irc = [read_irc(f, only_annotated=True) for f in irc_files(args.irc / "dev")]
    console.print(report(f"IRC dev: {len(irc)} files, {sum(len(c.events) for c in irc):,} messages", irc,
                         gold_of(irc), not args.no_product))
    dialogues = list(read_molweni(args.molweni))
    channels = [d.channel for d in dialogues]
    qa = {d.channel.name: d.qa for d in dialogues}
    console.print(questions(dialogues))
    if not args.folds:
        print("Molweni: the shipped model fitted every dev dialogue; give --folds DIR (written by the training "
              "command with --folds DIR) to measure Rapport on Molweni two-fold")
    console.print(report(f"Molweni dev: {len(channels)} dialogues, {sum(len(c.events) for c in channels):,} "
                         "utterances", channels, gold_of(channels, qa), False, qa, args.folds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
