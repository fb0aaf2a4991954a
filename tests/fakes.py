"""In-memory fakes of the core's ports, for unit tests of the core."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.conversation import OPEN, Contact, Memory, Outcome, Question, Window, apply_answers
from bot.events import Member, MessagePosted
from bot.rapport import PairStats
from bot.replies import Reply


@dataclass
class FakeClock:
    current: datetime = field(default_factory=lambda: datetime(2026, 3, 2, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass
class FakeOutbound:
    sent: list[tuple[str, str, str, Reply]] = field(default_factory=list)  # (kind, workspace, to, reply)
    undeliverable: set[str] = field(default_factory=set)

    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool:
        if user in self.undeliverable:
            return False
        self.sent.append(("dm", workspace, user, reply))
        return True

    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool:
        self.sent.append(("channel", workspace, channel, reply))
        return True


@dataclass
class FakeMembers:
    rows: dict[tuple[str, str], Member] = field(default_factory=dict)

    async def upsert(self, members: Sequence[Member]) -> None:
        for m in members:
            old = self.rows.get((m.workspace, m.user_id))
            self.rows[(m.workspace, m.user_id)] = replace(m, tz=m.tz or (old.tz if old else None))

    async def get(self, workspace: str, user_id: str) -> Member | None:
        return self.rows.get((workspace, user_id))

    async def list(self, workspace: str) -> list[Member]:
        return [m for (ws, _), m in self.rows.items() if ws == workspace]


@dataclass
class FakeGraph:
    memory: Memory = field(default_factory=Memory)
    questions: list[Question] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    async def window(self, event: MessagePosted) -> Window:
        return self.memory.window(event)

    async def record(self, outcomes: Sequence[Outcome]) -> int:
        new = 0
        for outcome in outcomes:
            key = (outcome.message.workspace, outcome.message.message_id)
            if key in self.memory.messages:
                continue
            new += 1
            self.memory.remember(outcome)
            self.questions = apply_answers(self.questions, outcome.answers) + list(outcome.questions)
            self.contacts.extend(outcome.contacts)
        return new

    async def forget_message(self, workspace: str, message_id: str) -> None:
        self.memory.messages.pop((workspace, message_id), None)
        self.questions = [
            replace(q, answered_at=None, answer_id=None) if q.answer_id == message_id else q
            for q in self.questions if not (q.workspace == workspace and q.message_id == message_id)
        ]
        self.contacts = [c for c in self.contacts if not (c.workspace == workspace and c.message_id == message_id)]

    async def pair_stats(self, workspace: str, now: datetime, user: str | None = None) -> list[PairStats]:
        pairs: dict[tuple[str, str], dict] = {}
        for q in self.questions:
            if q.workspace != workspace or q.addressee == OPEN or (user and user not in (q.asker, q.addressee)):
                continue
            a, b = sorted((q.asker, q.addressee))
            d = "ab" if q.asker == a else "ba"
            p = pairs.setdefault((a, b), {})
            p[f"asked_{d}"] = p.get(f"asked_{d}", 0) + 1
            p[f"answered_{d}"] = p.get(f"answered_{d}", 0) + (q.answered_at is not None)
            p[f"unanswered_{d}"] = p.get(f"unanswered_{d}", 0) + (q.answered_at is None and q.deadline < now)
        days: dict[tuple[str, str], set] = {}
        for c in self.contacts:
            if c.workspace != workspace or (user and user not in (c.source, c.target)):
                continue
            a, b = sorted((c.source, c.target))
            p = pairs.setdefault((a, b), {})
            days.setdefault((a, b), set()).add(c.at.date())
            p["first_contact"] = min(p.get("first_contact", c.at), c.at)
            p["last_contact"] = max(p.get("last_contact", c.at), c.at)
            p["contact_days"] = len(days[(a, b)])
        return [PairStats(workspace, a, b, **f) for (a, b), f in sorted(pairs.items())]

    async def workspaces(self) -> list[str]:
        return sorted({ws for ws, _ in self.memory.messages})


@dataclass
class FakeEvents:
    seen: dict[tuple[str, str], datetime] = field(default_factory=dict)

    async def first_time(self, workspace: str, event_id: str, at: datetime) -> bool:
        return self.seen.setdefault((workspace, event_id), at) is at

    async def expire(self, now: datetime) -> int:
        old = [k for k, at in self.seen.items() if at < now - timedelta(days=2)]
        for key in old:
            del self.seen[key]
        return len(old)


@dataclass
class FakeRuns:
    claims: dict[str, tuple[str, datetime, datetime | None]] = field(default_factory=dict)  # owner, lease, done
    deliveries: dict[tuple[str, str], str] = field(default_factory=dict)

    async def claim(self, key: str, owner: str, now: datetime, lease: timedelta) -> bool:
        held = self.claims.get(key)
        if held is None or (held[2] is None and held[1] < now):
            self.claims[key] = (owner, now + lease, None)
            return True
        return False

    async def finish(self, key: str, now: datetime) -> None:
        owner, lease, _ = self.claims[key]
        self.claims[key] = (owner, lease, now)

    async def finished(self, key: str) -> bool:
        return key in self.claims and self.claims[key][2] is not None

    async def deliver_once(self, key: str, recipient: str, now: datetime) -> bool:
        if (key, recipient) in self.deliveries:
            return False
        self.deliveries[(key, recipient)] = "sending"
        return True

    async def delivered(self, key: str, recipient: str, ok: bool, now: datetime) -> None:
        self.deliveries[(key, recipient)] = "sent" if ok else "failed"


@dataclass
class FakeStore:
    members: FakeMembers = field(default_factory=FakeMembers)
    graph: FakeGraph = field(default_factory=FakeGraph)
    events: FakeEvents = field(default_factory=FakeEvents)
    runs: FakeRuns = field(default_factory=FakeRuns)

    async def close(self) -> None:
        pass
