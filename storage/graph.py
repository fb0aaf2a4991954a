"""The question graph in SQL (bot.ports.Graph): messages seen, questions and their answers, contacts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, case, distinct, func, literal, or_, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.ties import PairSummary
from bot.events import MessagePosted
from bot.graph.conversation import (
    OPEN,
    RECENT_LIMIT,
    Answer,
    Contact,
    Outcome,
    Question,
    SeenMessage,
    addressing_kept,
    apply_answers,
)
from bot.graph.rapport import PairStats
from bot.graph.reply_model import CANDIDATES, HORIZON
from storage.models import AddresseeRow, ContactRow, MemberRow, MessageRow, QuestionRow
from storage.statements import chunks, insert

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OPEN_QUESTIONS_LIMIT = 200


def day_of(at: datetime) -> int:
    return (at - EPOCH).days


def seen_of(row: Any) -> SeenMessage:
    return SeenMessage(row.workspace, row.channel, row.message_id, row.author, row.at, row.thread_id,
                       row.reply_to, row.is_question)


def message_row(m: SeenMessage) -> dict[str, Any]:
    return {"workspace": m.workspace, "message_id": m.message_id, "channel": m.channel, "author": m.author,
            "at": m.at, "thread_id": m.thread_id, "reply_to": m.reply_to, "is_question": m.is_question}


def addressee_rows(m: SeenMessage) -> list[dict[str, Any]]:
    return [{"workspace": m.workspace, "message_id": m.message_id, "user_id": user, "spoken_to": user in m.to,
             "mentioned": user in m.mentions, "at": m.at} for user in sorted(m.to | m.mentions)]


def question_of(row: Any) -> Question:
    return Question(row.workspace, row.message_id, row.channel, row.thread_id, row.asker, row.addressee,
                    row.asked_at, row.deadline, row.answered_at, row.answer_id)


class SqlGraph:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def context(self, workspace: str, channel: str, events: Sequence[MessagePosted],
                      ) -> tuple[list[SeenMessage], list[Question]]:
        # Core selects, not ORM entities: this is on the hot path of every live message.
        m, q = MessageRow.__table__.c, QuestionRow.__table__.c
        first, last = min(e.at for e in events), max(e.at for e in events)
        own = {e.message_id for e in events}
        referenced = {i for e in events for i in (e.reply_to, e.thread_id) if i and i not in own}
        threads = {e.thread_id for e in events if e.thread_id}
        flat_chat = and_(m.channel == channel, m.thread_id.is_(None), m.reply_to.is_(None), m.at >= first - HORIZON)
        # Only questions these messages could answer, as Memory.window picks them: those they reply to (the
        # reply ranker's candidates among them) and those of their threads.
        answerable: list[ColumnElement[bool]] = [q.message_id.in_(referenced)] if referenced else []
        if threads:
            answerable.append(q.thread_id.in_(threads))
        if any(e.thread_id is None and e.reply_to is None for e in events):
            answerable.append(and_(q.thread_id.is_(None), q.asked_at >= first - HORIZON))
        async with self.sessions() as session:
            questions = [question_of(row) for row in await session.execute(
                select(*q)
                # Answered ones too: an open question takes more answerers, and says who answered it already.
                .where(q.workspace == workspace, q.channel == channel,
                       q.deadline >= first, q.asked_at <= last, or_(*answerable))
                .order_by(q.asked_at.desc()).limit(OPEN_QUESTIONS_LIMIT))]
            messages = [seen_of(row) for row in await session.execute(
                select(*m).where(m.workspace == workspace, m.at <= last, flat_chat)
                .order_by(m.at.desc()).limit(CANDIDATES))]
            messages = await self._addressed(session, workspace, messages)
            if threads:
                messages += [seen_of(row) for row in await session.execute(
                    select(*m).where(m.workspace == workspace, m.at <= last, m.thread_id.in_(threads))
                    .order_by(m.at.desc()).limit(RECENT_LIMIT * len(threads)))]
            missing = referenced - {seen.message_id for seen in messages}
            if missing:
                messages += [seen_of(row) for row in await session.execute(
                    select(*m).where(m.workspace == workspace, m.message_id.in_(missing)))]
        # A question's own message, when older than what was loaded, is all the linking needs of it.
        loaded = {seen.message_id for seen in messages}
        messages += [
            SeenMessage(x.workspace, x.channel, x.message_id, x.asker, x.asked_at, x.thread_id, None, True)
            for x in questions if x.message_id not in loaded
        ]
        return messages, questions

    async def record(self, outcomes: Sequence[Outcome]) -> int:
        if not outcomes:
            return 0
        async with self.sessions.begin() as session:
            inserted: set[tuple[str, str]] = set()
            rows = [message_row(o.message) for o in outcomes]
            for chunk in chunks(rows):
                stmt = insert(session, MessageRow.__table__).on_conflict_do_nothing().returning(
                    MessageRow.workspace, MessageRow.message_id)
                inserted.update((r.workspace, r.message_id) for r in await session.execute(stmt, chunk))
            new = [o for o in outcomes if (o.message.workspace, o.message.message_id) in inserted]
            kept = addressing_kept(o.message for o in new)
            await self._insert(session, AddresseeRow, [r for o in new if (o.message.workspace, o.message.message_id)
                                                       in kept for r in addressee_rows(o.message)])
            answers = [a for o in new for a in o.answers]
            questions = apply_answers([q for o in new for q in o.questions], answers)
            in_batch = {(q.workspace, q.message_id) for q in questions}
            await self._insert(session, QuestionRow, [vars(q) for q in questions])
            await self._answer(session, [a for a in answers if (a.workspace, a.question_id) not in in_batch])
            await self._insert(session, ContactRow, [self._contact(c) for o in new for c in o.contacts])
            return len(new)

    @staticmethod
    async def _addressed(session: AsyncSession, workspace: str, messages: list[SeenMessage]) -> list[SeenMessage]:
        """The flat-chat candidates with whom each speaks to and mentions."""
        if not messages:
            return messages
        a = AddresseeRow.__table__.c
        to: dict[str, set[str]] = {}
        named: dict[str, set[str]] = {}
        for row in await session.execute(select(a.message_id, a.user_id, a.spoken_to, a.mentioned).where(
                a.workspace == workspace, a.message_id.in_([s.message_id for s in messages]))):
            if row.spoken_to:
                to.setdefault(row.message_id, set()).add(row.user_id)
            if row.mentioned:
                named.setdefault(row.message_id, set()).add(row.user_id)
        return [replace(s, to=frozenset(to.get(s.message_id, ())), mentions=frozenset(named.get(s.message_id, ())))
                if s.message_id in to or s.message_id in named else s for s in messages]

    @staticmethod
    def _contact(c: Contact) -> dict[str, Any]:
        return {**vars(c), "day": day_of(c.at)}

    @staticmethod
    async def _insert(session: AsyncSession, table: type[Any], rows: list[dict[str, Any]]) -> None:
        for chunk in chunks(rows):
            # The Core table: ORM inserts split batches into one statement per pattern of NULL columns.
            await session.execute(insert(session, table.__table__).on_conflict_do_nothing(), chunk)

    @staticmethod
    async def _answer(session: AsyncSession, answers: list[Answer]) -> None:
        """As apply_answers, on stored questions: the first answer wins, also when two processes race on the same
        question; an open question's answerer gets a row of their own (once: the key includes the answerer)."""
        q: Table = QuestionRow.__table__  # type: ignore[assignment]
        for a in answers:
            question = and_(q.c.workspace == a.workspace, q.c.message_id == a.question_id, q.c.addressee == a.addressee)
            await session.execute(update(q).where(question, q.c.answered_at.is_(None))
                                  .values(answered_at=a.at, answer_id=a.answer_id))
            if a.addressee != OPEN:
                continue
            values = {c.name: c for c in q.c} | {
                "addressee": literal(a.answerer, q.c.addressee.type),
                "answered_at": literal(a.at, q.c.answered_at.type),
                "answer_id": literal(a.answer_id, q.c.answer_id.type)}
            await session.execute(insert(session, q).on_conflict_do_nothing().from_select(
                list(values), select(*values.values()).where(question)))

    async def forget_messages(self, workspace: str, message_ids: Sequence[str]) -> None:
        q = QuestionRow
        for chunk in chunks(message_ids):  # a deleted channel's thousands in steps, each step whole
            ids = list(chunk)
            async with self.sessions.begin() as session:
                for table in (ContactRow, QuestionRow, MessageRow, AddresseeRow):
                    await session.execute(table.__table__.delete().where(  # type: ignore[attr-defined]
                        table.workspace == workspace, table.message_id.in_(ids)))
                # An answerer's own row of an open question goes with the answer; a question put to them (its
                # message's "question" contact says so, as for a question back, which is open too) stays,
                # unanswered again.
                c = ContactRow
                opened = select(q.message_id).where(q.workspace == workspace, q.addressee == OPEN)
                put_to_them = select(c.message_id).where(
                    c.workspace == q.workspace, c.message_id == q.message_id, c.source == q.asker,
                    c.target == q.addressee, c.kind == "question").exists()
                await session.execute(q.__table__.delete().where(  # type: ignore[attr-defined]
                    q.workspace == workspace, q.answer_id.in_(ids), q.addressee != OPEN, q.message_id.in_(opened),
                    ~put_to_them))
                await session.execute(
                    update(QuestionRow)
                    .where(QuestionRow.workspace == workspace, QuestionRow.answer_id.in_(ids))
                    .values(answered_at=None, answer_id=None))

    async def messages_in(self, workspace: str, channel: str, thread_id: str | None = None) -> list[str]:
        m = MessageRow
        query = select(m.message_id).where(m.workspace == workspace, m.channel == channel)
        if thread_id is not None:
            query = query.where(m.thread_id == thread_id)
        async with self.sessions() as session:
            return list(await session.scalars(query.order_by(m.message_id)))

    async def expire_addressing(self, workspace: str, before: datetime) -> int:
        a = AddresseeRow
        async with self.sessions.begin() as session:
            result = await session.execute(a.__table__.delete().where(  # type: ignore[attr-defined]
                a.workspace == workspace, a.at < before))
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def pair_stats(self, workspace: str, now: datetime, user: str | None = None) -> list[PairStats]:
        questions: Any = QuestionRow.__table__
        contacts: Any = ContactRow.__table__
        if user is not None:
            # One member's rows as two index searches each (as asker and as addressee, as source and as target)
            # rather than `asker = u OR addressee = u`, for which SQLite scans the whole workspace: 0.002 s
            # instead of 0.29 s at 5,000 members.
            q, c = questions.c, contacts.c
            questions = union_all(
                select(questions).where(q.workspace == workspace, q.asker == user),
                select(questions).where(q.workspace == workspace, q.addressee == user, q.asker != user),
            ).subquery()
            contacts = union_all(
                select(contacts).where(c.workspace == workspace, c.source == user),
                select(contacts).where(c.workspace == workspace, c.target == user, c.source != user),
            ).subquery()
        q, c = questions.c, contacts.c
        answered = func.sum(case((q.answered_at.is_not(None), 1), else_=0))
        unanswered = func.sum(case((and_(q.answered_at.is_(None), q.deadline < now), 1), else_=0))
        lo = case((c.source < c.target, c.source), else_=c.target)
        hi = case((c.source < c.target, c.target), else_=c.source)
        pairs: dict[tuple[str, str], dict[str, Any]] = {}
        async with self.sessions() as session:
            for asker, addressee, n, n_answered, n_unanswered in await session.execute(
                select(q.asker, q.addressee, func.count(), answered, unanswered).select_from(questions)
                .where(q.workspace == workspace, q.addressee != OPEN).group_by(q.asker, q.addressee)
            ):
                a, b = sorted((asker, addressee))
                d = "ab" if asker == a else "ba"
                pair = pairs.setdefault((a, b), {})
                pair.update({f"asked_{d}": n, f"answered_{d}": n_answered or 0,
                             f"unanswered_{d}": n_unanswered or 0})
            for a, b, days, first, last in await session.execute(
                select(lo, hi, func.count(distinct(c.day)), func.min(c.at), func.max(c.at)).select_from(contacts)
                .where(c.workspace == workspace).group_by(lo, hi)
            ):
                pairs.setdefault((a, b), {}).update(contact_days=days, first_contact=first, last_contact=last)
        return [PairStats(workspace, a, b, **fields) for (a, b), fields in sorted(pairs.items())]

    async def pair_summaries(self, workspace: str) -> list[PairSummary]:
        # What pair_stats reads, less what the figures for leads do not need: no count of distinct days, no last
        # contact, no unanswered count, rows fetched as plain tuples (1.6 CPU s against 2.1 at 5,000 members and
        # 98,000 pairs). Two GROUP BYs beat one over the union of both tables on SQLite (0.78 s against 0.98 s).
        q, c = QuestionRow.__table__.c, ContactRow.__table__.c
        lo = case((c.source < c.target, c.source), else_=c.target)
        hi = case((c.source < c.target, c.target), else_=c.source)
        async with self.sessions() as session:
            contacts = (await session.execute(
                select(lo, hi, func.min(c.at)).where(c.workspace == workspace).group_by(lo, hi))).all()
            questions = (await session.execute(
                select(q.asker, q.addressee, func.sum(case((q.answered_at.is_not(None), 1), else_=0)))
                .where(q.workspace == workspace, q.addressee != OPEN).group_by(q.asker, q.addressee))).all()
        pairs: dict[tuple[str, str], list[Any]] = {(a, b): [0, 0, first] for a, b, first in contacts}
        for asker, addressee, answered in questions:
            key = (asker, addressee) if asker <= addressee else (addressee, asker)
            pair = pairs.get(key)
            if pair is None:
                pair = pairs[key] = [0, 0, None]
            pair[0 if asker <= addressee else 1] += answered
        return [PairSummary(a, b, *fields) for (a, b), fields in sorted(pairs.items())]

    async def workspaces(self) -> list[str]:
        async with self.sessions() as session:
            rows = await session.scalars(
                select(MemberRow.workspace).union(select(MessageRow.workspace)))
            return sorted(set(rows))
