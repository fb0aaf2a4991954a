"""In-memory fakes of the core's ports, for unit tests of the core."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from bot.conversation import OPEN, Contact, Memory, Outcome, Question, Window, apply_answers
from bot.events import Member, MessagePosted
from bot.profiles import Profile
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
    erased: set[tuple[str, str]] = field(default_factory=set)  # shared with FakePrivacy: (workspace, hash)

    async def upsert(self, members: Sequence[Member]) -> None:
        from bot.privacy import member_hash

        for m in members:
            if (m.workspace, member_hash(m.workspace, m.user_id)) in self.erased:
                continue
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
class FakePrivacy:
    paused: dict[tuple[str, str], datetime] = field(default_factory=dict)
    erased: set[tuple[str, str]] = field(default_factory=set)
    retention: dict[str, int] = field(default_factory=dict)
    graph: FakeGraph | None = None
    scrubbed: int = 0

    async def pause(self, workspace: str, user: str, now: datetime) -> None:
        self.paused.setdefault((workspace, user), now)

    async def resume(self, workspace: str, user: str) -> None:
        from bot.privacy import member_hash

        self.paused.pop((workspace, user), None)
        self.erased.discard((workspace, member_hash(workspace, user)))

    async def untracked(self, workspace: str) -> frozenset[str]:
        from bot.privacy import member_hash

        return frozenset({member_hash(ws, u) for ws, u in self.paused if ws == workspace}
                         | {h for ws, h in self.erased if ws == workspace})

    async def forget_forever(self, workspace: str, user_hash: str, now: datetime) -> None:
        self.erased.add((workspace, user_hash))

    async def scrub(self) -> None:
        self.scrubbed += 1

    async def retention_days(self, workspace: str) -> int:
        return self.retention.get(workspace, 365)

    async def set_retention_days(self, workspace: str, days: int) -> None:
        self.retention[workspace] = days

    async def expire_history(self, workspace: str, before: datetime) -> int:
        assert self.graph is not None
        old = len(self.graph.questions) + len(self.graph.contacts)
        self.graph.questions = [q for q in self.graph.questions if q.workspace != workspace or q.asked_at >= before]
        self.graph.contacts = [c for c in self.graph.contacts if c.workspace != workspace or c.at >= before]
        return old - len(self.graph.questions) - len(self.graph.contacts)


@dataclass
class FakeCoreData:
    """The member's part of the fake core tables."""

    members: FakeMembers
    graph: FakeGraph

    async def export_member(self, workspace: str, user: str) -> dict:
        member = self.members.rows.get((workspace, user))
        return {
            "member": {"user_id": member.user_id, "name": member.name, "tz": member.tz} if member else None,
            "questions": [q.message_id for q in self.graph.questions
                          if q.workspace == workspace and user in (q.asker, q.addressee)],
            "contacts": [c.message_id for c in self.graph.contacts
                         if c.workspace == workspace and user in (c.source, c.target)],
        }

    async def erase_member(self, workspace: str, user: str) -> int:
        before = len(self.members.rows) + len(self.graph.questions) + len(self.graph.contacts)
        self.members.rows.pop((workspace, user), None)
        self.graph.questions = [q for q in self.graph.questions
                                if not (q.workspace == workspace and user in (q.asker, q.addressee))]
        self.graph.contacts = [c for c in self.graph.contacts
                               if not (c.workspace == workspace and user in (c.source, c.target))]
        return before - len(self.members.rows) - len(self.graph.questions) - len(self.graph.contacts)


@dataclass
class FakeProfiles:
    rows: dict[tuple[str, str], Profile] = field(default_factory=dict)
    phrase_vectors: dict[tuple[str, str], dict[str, tuple[str, bytes]]] = field(default_factory=dict)

    async def get(self, workspace: str, user_id: str) -> Profile | None:
        return self.rows.get((workspace, user_id))

    async def list(self, workspace: str) -> list[Profile]:
        return [p for (ws, _), p in sorted(self.rows.items()) if ws == workspace]

    async def save(self, profile: Profile) -> None:
        key = (profile.workspace, profile.user_id)
        self.rows[key] = profile
        keep = {p.key for p in profile.phrases()}
        self.phrase_vectors[key] = {k: v for k, v in self.phrase_vectors.get(key, {}).items() if k in keep}

    async def delete(self, workspace: str, user_id: str) -> bool:
        return await self.erase_member(workspace, user_id) > 0

    async def vectors(self, workspace: str, matcher: str, users: Sequence[str] | None = None
                      ) -> dict[str, dict[str, bytes]]:
        out = {user: {k: v for k, (m, v) in found.items() if m == matcher}
               for (ws, user), found in self.phrase_vectors.items()
               if ws == workspace and (users is None or user in users)}
        return {user: found for user, found in out.items() if found}

    async def save_vectors(self, workspace: str, user_id: str, matcher: str, vectors: dict[str, bytes]) -> None:
        if (workspace, user_id) in self.rows:
            self.phrase_vectors.setdefault((workspace, user_id), {}).update(
                {k: (matcher, v) for k, v in vectors.items()})

    async def export_member(self, workspace: str, user: str) -> dict:
        profile = self.rows.get((workspace, user))
        return {"profile": None if profile is None else {
            **{k: v for k, v in vars(profile).items() if k not in ("workspace", "user_id", "updated_at")},
            "updated_at": profile.updated_at.isoformat() if profile.updated_at else None}}

    async def erase_member(self, workspace: str, user: str) -> int:
        self.phrase_vectors.pop((workspace, user), None)
        return int(self.rows.pop((workspace, user), None) is not None)


@dataclass
class FakeStore:
    members: FakeMembers = field(default_factory=FakeMembers)
    graph: FakeGraph = field(default_factory=FakeGraph)
    events: FakeEvents = field(default_factory=FakeEvents)
    runs: FakeRuns = field(default_factory=FakeRuns)
    privacy: FakePrivacy = field(default_factory=FakePrivacy)
    profiles: FakeProfiles = field(default_factory=FakeProfiles)
    personal: list = field(default_factory=list)

    def __post_init__(self) -> None:
        self.privacy.graph = self.graph
        self.members.erased = self.privacy.erased
        self.personal.insert(0, FakeCoreData(self.members, self.graph))
        self.personal.append(self.profiles)

    async def close(self) -> None:
        pass
