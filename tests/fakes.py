"""In-memory fakes of the core's ports, for unit tests of the core."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain.nudges import Nudge, SentNudge
from bot.domain.profiles import Profile
from bot.domain.ties import PairSummary
from bot.events import Member, MessagePosted
from bot.graph.conversation import (
    OPEN,
    Contact,
    Memory,
    Outcome,
    Question,
    SeenMessage,
    addressing_kept,
    apply_answers,
)
from bot.graph.rapport import PairStats
from bot.privacy.privacy import graph_export, messages_export, vectors_export
from bot.replies import GroupConversation, Reply
from storage.statements import given


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None

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
    managers: set[tuple[str, str]] = field(default_factory=set)  # (channel, user) the platform says manages it
    groups: bool = False  # whether send_group opens group conversations (off: the platform has none)
    user_group_members: dict[str, frozenset[str]] = field(default_factory=dict)  # the platform's user groups

    async def send_direct(self, workspace: str, user: str, reply: Reply) -> bool:
        if user in self.undeliverable:
            return False
        self.sent.append(("dm", workspace, user, reply))
        return True

    async def send_channel(self, workspace: str, channel: str, reply: Reply) -> bool:
        self.sent.append(("channel", workspace, channel, reply))
        return True

    async def send_group(self, workspace: str, channel: str, users: Sequence[str], reply: Reply,
                         conversation: str | None = None) -> GroupConversation:
        """Group conversations where a test turns them on (`groups`), one per set of members, like Slack's group
        DMs; members in `undeliverable` are not reached."""
        reached = tuple(u for u in users if u not in self.undeliverable) if self.groups else ()
        if not reached:
            return GroupConversation()
        self.sent.append(("group", workspace, ",".join(users), reply))
        return GroupConversation(conversation or "G-" + "-".join(sorted(users)), reached)

    async def permalink(self, workspace: str, channel: str, message_id: str) -> str | None:
        return None

    async def manages(self, workspace: str, channel: str, user: str) -> bool:
        return (channel, user) in self.managers

    async def user_groups(self, workspace: str) -> dict[str, frozenset[str]]:
        return dict(self.user_group_members)


@dataclass
class FakeMembers:
    rows: dict[tuple[str, str], Member] = field(default_factory=dict)
    erased: set[tuple[str, str]] = field(default_factory=set)  # shared with FakePrivacy: (workspace, hash)

    async def upsert(self, members: Sequence[Member]) -> None:
        from bot.domain.members import member_hash

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

    async def context(self, workspace: str, channel: str, events: Sequence[MessagePosted],
                      ) -> tuple[list[SeenMessage], list[Question]]:
        # Everything of the channel: a fake holds little, and the linking rules pick from it.
        messages = [m for (ws, _), m in self.memory.messages.items() if ws == workspace and m.channel == channel]
        first = min(e.at for e in events)
        questions = [q for q in self.questions if q.workspace == workspace and q.channel == channel
                     and q.deadline >= first]
        return messages, questions

    async def record(self, outcomes: Sequence[Outcome]) -> int:
        new = 0
        kept = addressing_kept(o.message for o in outcomes
                               if (o.message.workspace, o.message.message_id) not in self.memory.messages)
        for outcome in outcomes:
            key = (outcome.message.workspace, outcome.message.message_id)
            if key in self.memory.messages:
                continue
            new += 1
            m = outcome.message
            if key not in kept:  # as SQL: whom it spoke to is kept only while it can be a candidate
                outcome = replace(outcome, message=replace(m, to=frozenset(), mentions=frozenset()))
            self.memory.remember(outcome)
            self.questions = apply_answers(self.questions, outcome.answers) + list(outcome.questions)
            self.contacts.extend(outcome.contacts)
        return new

    async def messages_in(self, workspace: str, channel: str, thread_id: str | None = None) -> list[str]:
        return sorted(m.message_id for (ws, _), m in self.memory.messages.items()
                      if ws == workspace and m.channel == channel and thread_id in (None, m.thread_id))

    async def forget_messages(self, workspace: str, message_ids: Sequence[str]) -> None:
        gone = set(message_ids)
        for message_id in gone:
            self.memory.messages.pop((workspace, message_id), None)
        opened = {q.message_id for q in self.questions if q.workspace == workspace and q.addressee == OPEN}
        put = {(c.message_id, c.source, c.target) for c in self.contacts
               if c.workspace == workspace and c.kind == "question" and c.message_id not in gone}
        self.questions = [q for q in self.questions if not (
            q.workspace == workspace and q.answer_id in gone and q.addressee != OPEN and q.message_id in opened
            and (q.message_id, q.asker, q.addressee) not in put)]
        self.questions = [
            replace(q, answered_at=None, answer_id=None) if q.workspace == workspace and q.answer_id in gone else q
            for q in self.questions if not (q.workspace == workspace and q.message_id in gone)
        ]
        self.contacts = [c for c in self.contacts if not (c.workspace == workspace and c.message_id in gone)]

    async def expire_addressing(self, workspace: str, before: datetime) -> int:
        old = {k: m for k, m in self.memory.messages.items()
               if k[0] == workspace and m.at < before and (m.to or m.mentions)}
        for k, m in old.items():
            self.memory.messages[k] = replace(m, to=frozenset(), mentions=frozenset())
        return sum(len(m.to | m.mentions) for m in old.values())

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

    async def pair_summaries(self, workspace: str) -> list[PairSummary]:
        # Straight from pair_stats: the contract test holds the SQL store's one-query summary to the same.
        return [PairSummary(s.a, s.b, s.answered_ab, s.answered_ba, s.first_contact)
                for s in await self.pair_stats(workspace, datetime.now(UTC))]

    async def workspaces(self) -> list[str]:
        return sorted({ws for ws, _ in self.memory.messages})



@dataclass
class FakeRuns:
    claims: dict[str, tuple[str, datetime, datetime | None]] = field(default_factory=dict)  # owner, lease, done
    deliveries: dict[tuple[str, str], str] = field(default_factory=dict)
    claimed_at: dict[str, datetime] = field(default_factory=dict)
    reserved_at: dict[tuple[str, str], datetime] = field(default_factory=dict)

    async def claim(self, key: str, owner: str, now: datetime, lease: timedelta) -> bool:
        held = self.claims.get(key)
        if held is None or (held[2] is None and held[1] < now):
            self.claims[key] = (owner, now + lease, None)
            self.claimed_at[key] = now
            return True
        return False

    async def renew(self, key: str, owner: str, now: datetime, lease: timedelta) -> bool:
        held = self.claims.get(key)
        if held is None or held[0] != owner or held[2] is not None:
            return False
        self.claims[key] = (owner, now + lease, None)
        return True

    async def finish(self, key: str, now: datetime) -> None:
        owner, lease, _ = self.claims[key]
        self.claims[key] = (owner, lease, now)

    async def finished(self, key: str) -> bool:
        return key in self.claims and self.claims[key][2] is not None

    async def deliver_once(self, key: str, recipient: str, now: datetime, run: str | None = None) -> bool:
        status = self.deliveries.get((key, recipient))
        claim = run or key
        if status is not None and not (status == "sending" and claim in self.claimed_at
                                       and self.reserved_at[(key, recipient)] < self.claimed_at[claim]):
            return False
        self.deliveries[(key, recipient)] = "sending"
        self.reserved_at[(key, recipient)] = now
        return True

    async def delivered(self, key: str, recipient: str, ok: bool, now: datetime) -> None:
        self.deliveries[(key, recipient)] = "sent" if ok else "failed"
        self.reserved_at[(key, recipient)] = now  # as SQL's `at`: the delivery's last change

    async def delivery(self, key: str, recipient: str) -> str | None:
        return self.deliveries.get((key, recipient))

    async def forget_deliveries(self, before: datetime) -> int:
        old = [k for k, at in self.reserved_at.items() if at < before]
        for k in old:
            del self.deliveries[k], self.reserved_at[k]
        return len(old)


@dataclass
class FakePrivacy:
    paused: dict[tuple[str, str], datetime] = field(default_factory=dict)
    erased: set[tuple[str, str]] = field(default_factory=set)
    retention: dict[str, int] = field(default_factory=dict)
    graph: FakeGraph | None = None
    store: FakeStore | None = None  # forgetting a workspace and expiring history reach every repository, as in SQL
    scrubbed: int = 0

    async def pause(self, workspace: str, user: str, now: datetime) -> None:
        self.paused.setdefault((workspace, user), now)

    async def resume(self, workspace: str, user: str) -> None:
        from bot.domain.members import member_hash

        self.paused.pop((workspace, user), None)
        self.erased.discard((workspace, member_hash(workspace, user)))

    async def untracked(self, workspace: str) -> frozenset[str]:
        from bot.domain.members import member_hash

        return frozenset({member_hash(ws, u) for ws, u in self.paused if ws == workspace}
                         | {h for ws, h in self.erased if ws == workspace})

    async def forget_forever(self, workspace: str, user_hash: str, now: datetime) -> None:
        self.erased.add((workspace, user_hash))

    async def forget_workspace(self, workspace: str) -> int:
        """Everything of the workspace, from every repository (SQL: every table with a workspace column)."""
        assert self.store is not None
        s = self.store
        return sum((
            _drop(s.members.rows, lambda k, _: k[0] == workspace),
            _drop(s.graph.memory.messages, lambda k, _: k[0] == workspace),
            _drop_from(s.graph, "questions", lambda q: q.workspace == workspace),
            _drop_from(s.graph, "contacts", lambda c: c.workspace == workspace),
            _drop(self.paused, lambda k, _: k[0] == workspace),
            _drop_from(self, "erased", lambda e: e[0] == workspace),
            _drop(self.retention, lambda k, _: k == workspace),
            _drop(s.profiles.rows, lambda k, _: k[0] == workspace),
            _drop(s.profiles.phrase_vectors, lambda k, _: k[0] == workspace),
            _drop(s.nudges.rows, lambda _, n: n.workspace == workspace),
            _drop(s.nudges.prefs, lambda k, _: k[0] == workspace),
            _drop_from(s.nudges, "shares", lambda sh: sh[0] == workspace),
            _drop(s.coffee.settings, lambda k, _: k[0] == workspace),
            _drop(s.coffee.members, lambda k, _: k[0] == workspace),
            _drop_from(s.coffee, "avoid_rows", lambda a: a[0] == workspace),
            _drop(s.coffee.rounds, lambda k, _: k[0] == workspace),
            _drop(s.coffee.groups, lambda _, g: g.workspace == workspace),
            _drop_from(s.coffee, "introductions", lambda i: i[0] == workspace),
        ))

    async def scrub(self) -> None:
        self.scrubbed += 1

    async def retention_days(self, workspace: str) -> int:
        return self.retention.get(workspace, 365)

    async def set_retention_days(self, workspace: str, days: int) -> None:
        self.retention[workspace] = days

    async def expire_history(self, workspace: str, before: datetime) -> int:
        """As SQL: messages, questions and contacts older than `before`, and the nudges, shares and introductions
        that came of them."""
        assert self.store is not None
        s = self.store
        return sum((
            _drop_from(s.graph, "contacts", lambda c: c.workspace == workspace and c.at < before),
            _drop_from(s.graph, "questions", lambda q: q.workspace == workspace and q.asked_at < before),
            _drop(s.graph.memory.messages, lambda k, m: k[0] == workspace and m.at < before),
            _drop(s.nudges.rows, lambda _, n: n.workspace == workspace and n.created_at < before),
            _drop_from(s.nudges, "shares", lambda sh: sh[0] == workspace and sh[3] < before),
            _drop_from(s.coffee, "introductions", lambda i: i[0] == workspace and i[4] < before),
        ))


def _drop(rows: dict[Any, Any], gone: Any) -> int:
    """Remove the entries for which gone(key, value) holds; how many went."""
    keys = [k for k, v in rows.items() if gone(k, v)]
    for k in keys:
        del rows[k]
    return len(keys)


def _drop_from(holder: Any, name: str, gone: Any) -> int:
    """Keep only the items of holder.<name> (a list or set) for which gone(item) does not hold; how many went."""
    items = getattr(holder, name)
    kept = type(items)(i for i in items if not gone(i))
    setattr(holder, name, kept)
    return len(items) - len(kept)


@dataclass
class FakeCoreData:
    """The member's part of the fake core tables."""

    members: FakeMembers
    graph: FakeGraph
    paused: dict[tuple[str, str], datetime]  # FakePrivacy's: SQL keeps pauses in the core tables

    async def export_member(self, workspace: str, user: str) -> dict:
        member = self.members.rows.get((workspace, user))
        paused = self.paused.get((workspace, user))
        questions = sorted((q for q in self.graph.questions
                            if q.workspace == workspace and user in (q.asker, q.addressee)), key=lambda q: q.asked_at)
        contacts = sorted((c for c in self.graph.contacts
                           if c.workspace == workspace and user in (c.source, c.target)), key=lambda c: c.at)
        mine = sorted((m for (ws, _), m in self.graph.memory.messages.items() if ws == workspace and m.author == user),
                      key=lambda m: m.at)
        return {
            "member": {"user_id": member.user_id, "name": member.name, "tz": member.tz} if member else None,
            "tracking_paused_since": paused.isoformat() if paused else None,
            "messages_seen": len(mine),
            "messages": messages_export(mine),
            "addressees_of_your_messages": sum(len(m.to | m.mentions)
                                               for (ws, _), m in self.graph.memory.messages.items()
                                               if ws == workspace and m.author == user),
            "messages_addressing_you": sum(user in m.to | m.mentions
                                           for (ws, _), m in self.graph.memory.messages.items() if ws == workspace),
            "installed_rapport_at": [],  # the fake has no Slack installations (an adapter's table in SQL)
            **graph_export(user, questions, contacts),
        }

    async def erase_member(self, workspace: str, user: str) -> int:
        before = len(self.members.rows) + len(self.graph.questions) + len(self.graph.contacts) + len(self.paused)
        self.members.rows.pop((workspace, user), None)
        self.paused.pop((workspace, user), None)
        theirs = {mid for (ws, mid), m in self.graph.memory.messages.items() if ws == workspace and m.author == user}
        messages = self.graph.memory.messages
        for key in [(workspace, mid) for mid in theirs]:
            del messages[key]
        for key, m in list(messages.items()):
            if key[0] == workspace and user in m.to | m.mentions:
                messages[key] = replace(m, to=m.to - {user}, mentions=m.mentions - {user})
        self.graph.questions = [
            replace(q, answer_id=None) if q.workspace == workspace and q.addressee == OPEN and q.answer_id in theirs
            else q
            for q in self.graph.questions if not (q.workspace == workspace and user in (q.asker, q.addressee))]
        self.graph.contacts = [c for c in self.graph.contacts
                               if not (c.workspace == workspace and user in (c.source, c.target))]
        return before - len(self.members.rows) - len(self.graph.questions) - len(self.graph.contacts) - len(self.paused)


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

    async def vector_rows(self, workspace: str, matcher: str, users: Sequence[str] | None = None
                          ) -> dict[str, tuple[tuple[str, ...], bytes]]:
        return {user: (tuple(found), b"".join(found.values()))
                for user, found in (await self.vectors(workspace, matcher, users)).items()}

    async def save_vectors(self, workspace: str, user_id: str, matcher: str, vectors: dict[str, bytes]) -> None:
        if (workspace, user_id) in self.rows:
            self.phrase_vectors.setdefault((workspace, user_id), {}).update(
                {k: (matcher, v) for k, v in vectors.items()})

    async def export_member(self, workspace: str, user: str) -> dict:
        profile = self.rows.get((workspace, user))
        by_matcher: dict[str, dict[str, bytes]] = {}
        for key, (matcher, vector) in self.phrase_vectors.get((workspace, user), {}).items():
            by_matcher.setdefault(matcher, {})[key] = vector
        return {"profile": None if profile is None else {
            **{k: v for k, v in vars(profile).items() if k not in ("workspace", "user_id", "updated_at")},
            "updated_at": profile.updated_at.isoformat() if profile.updated_at else None},
            "profile_vectors": vectors_export(by_matcher)}

    async def erase_member(self, workspace: str, user: str) -> int:
        self.phrase_vectors.pop((workspace, user), None)
        return int(self.rows.pop((workspace, user), None) is not None)


@dataclass
class FakeNudges:
    graph: FakeGraph | None = None  # unanswered questions are read from the graph, as SqlNudges reads its table
    rows: dict[int, Any] = field(default_factory=dict)  # id -> bot.domain.nudges.Nudge
    prefs: dict[tuple[str, str], Any] = field(default_factory=dict)  # -> bot.nudges.policy.NudgeSettings
    shares: list[tuple[str, str, str, datetime]] = field(default_factory=list)  # workspace, giver, receiver, at

    async def add(self, nudges: Sequence[Any]) -> int:
        taken = {(n.workspace, n.recipient, n.dedup) for n in self.rows.values()}
        added = 0
        for n in nudges:
            if (n.workspace, n.recipient, n.dedup) in taken:
                continue
            taken.add((n.workspace, n.recipient, n.dedup))
            new_id = len(self.rows) + 1
            while new_id in self.rows:
                new_id += 1
            self.rows[new_id] = replace(n, id=new_id)
            added += 1
        return added

    async def get(self, nudge_id: int) -> Any:
        return self.rows.get(nudge_id)

    async def due(self, now: datetime, limit: int) -> list:
        found = [n for n in self.rows.values() if n.status == "pending" and n.deliver_at <= now]
        return sorted(found, key=lambda n: n.deliver_at)[:limit]

    async def due_for(self, workspace: str, user: str, now: datetime) -> list:
        return [n for n in await self.due(now, len(self.rows)) if (n.workspace, n.recipient) == (workspace, user)]

    async def change(self, nudge: Nudge, *, status: str | None = None, deliver_at: datetime | None = None,
                     due_at: datetime | None = None, sent_at: datetime | None = None, attempt: int | None = None,
                     ) -> None:
        values = given(status=status, deliver_at=deliver_at, due_at=due_at, sent_at=sent_at, attempt=attempt)
        if nudge.id in self.rows:
            self.rows[nudge.id] = replace(self.rows[nudge.id], **values)

    async def sent_times(self, workspace: str, user: str | None, since: datetime) -> list[datetime]:
        return [n.sent_at for n in self.rows.values() if n.workspace == workspace and user in (None, n.recipient)
                and n.sent_at is not None and n.sent_at > since and n.status != "failed"]

    async def sent_since(self, workspace: str, since: datetime) -> list[SentNudge]:
        assert self.graph is not None
        out = []
        for n in self.rows.values():
            if n.workspace != workspace or n.sent_at is None or n.sent_at <= since or n.status == "failed":
                continue
            after = [c.at for c in self.graph.contacts if (c.workspace, c.source, c.target) == (
                workspace, n.recipient, n.subject) and c.at > n.sent_at]
            after += [at for ws, giver, receiver, at in self.shares
                      if (ws, giver, receiver) == (workspace, n.recipient, n.subject) and at > n.sent_at]
            out.append(SentNudge(n.kind, n.recipient, n.sent_at, n.status, min(after, default=None)))
        return out

    async def recent(self, workspace: str, user: str, limit: int) -> list:
        mine = [n for n in self.rows.values() if (n.workspace, n.recipient) == (workspace, user)]
        return sorted(mine, key=lambda n: (n.created_at, n.id), reverse=True)[:limit]

    async def told(self, workspace: str, kind: str) -> list[tuple[str, str, str]]:
        return [(n.recipient, n.subject, n.ref) for n in self.rows.values()
                if n.workspace == workspace and n.kind == kind and n.sent_at is not None]

    async def settings(self, workspace: str, user: str) -> Any:
        from bot.domain.nudges import NudgeSettings

        return self.prefs.get((workspace, user)) or NudgeSettings(workspace, user)

    async def all_settings(self, workspace: str) -> dict[str, Any]:
        return {u: s for (ws, u), s in self.prefs.items() if ws == workspace}

    async def save_settings(self, settings: Any) -> None:
        self.prefs[(settings.workspace, settings.user_id)] = settings

    async def unanswered(self, workspace: str, since: datetime, until: datetime) -> list[Question]:
        assert self.graph is not None
        return [q for q in self.graph.questions if q.workspace == workspace and q.addressee != OPEN
                and q.answered_at is None and since < q.deadline <= until]

    async def open_question(self, workspace: str, message_id: str, addressee: str) -> datetime | None:
        assert self.graph is not None
        return next((q.asked_at for q in self.graph.questions if (q.workspace, q.message_id, q.addressee) == (
            workspace, message_id, addressee) and q.answered_at is None), None)

    async def record_share(self, workspace: str, giver: str, receiver: str, at: datetime) -> None:
        self.shares.append((workspace, giver, receiver, at))

    async def gave(self, workspace: str, giver: str, receiver: str, since: datetime) -> bool:
        return any(s[:3] == (workspace, giver, receiver) and s[3] >= since for s in self.shares)

    async def export_member(self, workspace: str, user: str) -> dict:
        settings = await self.settings(workspace, user)
        return {
            "nudges": [{"direction": "to you" if n.recipient == user else "about you", "kind": n.kind.value,
                        "other": n.subject if n.recipient == user else n.recipient, "status": n.status,
                        "created_at": _iso(n.created_at), "sent_at": _iso(n.sent_at)}
                       for n in sorted(self.rows.values(), key=lambda n: n.created_at)
                       if n.workspace == workspace and user in (n.recipient, n.subject)],
            "nudge_settings": {"enabled": settings.enabled, "quiet_hours": settings.quiet, "cap": settings.cap,
                               "days_off": sorted(settings.days_off), "muted": sorted(settings.muted)},
            "shares": [{"direction": "gave" if g == user else "received", "other": r if g == user else g,
                        "at": _iso(at)}
                       for ws, g, r, at in sorted(self.shares, key=lambda s: s[3])
                       if ws == workspace and user in (g, r)],
        }

    async def erase_member(self, workspace: str, user: str) -> int:
        gone = [i for i, n in self.rows.items() if n.workspace == workspace and user in (n.recipient, n.subject)]
        for i in gone:
            del self.rows[i]
        before = len(self.shares)
        self.shares = [s for s in self.shares if not (s[0] == workspace and user in (s[1], s[2]))]
        had_settings = self.prefs.pop((workspace, user), None) is not None
        return len(gone) + before - len(self.shares) + had_settings


@dataclass
class FakeCoffee:
    """Virtual coffee in memory (bot.ports.Coffee), mirroring storage/coffee.py."""

    settings: dict[tuple[str, str], Any] = field(default_factory=dict)
    members: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    avoid_rows: set[tuple[str, str, str]] = field(default_factory=set)
    rounds: dict[tuple[str, str, datetime], Any] = field(default_factory=dict)  # RoundRecord without groups
    groups: dict[int, Any] = field(default_factory=dict)  # id -> GroupRecord
    introductions: list[tuple[str, str, str, str, datetime]] = field(default_factory=list)

    async def channel(self, workspace: str, channel: str) -> Any:
        return self.settings.get((workspace, channel))

    async def channels(self, workspace: str) -> list:
        return [s for (ws, _), s in sorted(self.settings.items()) if ws == workspace]

    async def save_channel(self, settings: Any) -> None:
        self.settings[(settings.workspace, settings.channel)] = settings

    async def due_channels(self, now: datetime) -> list:
        return sorted((s for s in self.settings.values() if s.next_run_at and s.next_run_at <= now),
                      key=lambda s: s.next_run_at)

    async def advance(self, workspace: str, channel: str, due_at: datetime, next_at: datetime) -> bool:
        found = self.settings.get((workspace, channel))
        if found is None or found.next_run_at != due_at:
            return False
        self.settings[(workspace, channel)] = replace(found, next_run_at=next_at)
        return True

    async def membership(self, workspace: str, channel: str, user: str) -> Any:
        return self.members.get((workspace, channel, user))

    async def memberships(self, workspace: str, channel: str) -> list:
        return [m for (ws, ch, _), m in sorted(self.members.items()) if (ws, ch) == (workspace, channel)]

    async def save_membership(self, membership: Any) -> None:
        self.members[(membership.workspace, membership.channel, membership.user)] = membership

    async def remove_membership(self, workspace: str, channel: str, user: str) -> bool:
        return self.members.pop((workspace, channel, user), None) is not None

    async def avoid(self, workspace: str, user: str, other: str) -> None:
        self.avoid_rows.add((workspace, user, other))

    async def unavoid(self, workspace: str, user: str, other: str) -> bool:
        found = (workspace, user, other) in self.avoid_rows
        self.avoid_rows.discard((workspace, user, other))
        return found

    async def avoids(self, workspace: str, user: str, other: str) -> bool:
        return (workspace, user, other) in self.avoid_rows

    async def avoid_pairs(self, workspace: str, users: Sequence[str]) -> set:
        inside = set(users)
        return {frozenset((a, b)) for ws, a, b in self.avoid_rows if ws == workspace and a in inside and b in inside}

    def _full(self, record: Any) -> Any:
        key = (record.workspace, record.channel, record.due_at)
        groups = sorted((g for g in self.groups.values() if (g.workspace, g.channel, g.due_at) == key),
                        key=lambda g: g.index)
        return replace(record, groups=tuple(groups))

    async def round(self, workspace: str, channel: str, due_at: datetime) -> Any:
        found = self.rounds.get((workspace, channel, due_at))
        return self._full(found) if found else None

    async def save_round(self, record: Any) -> Any:
        key = (record.workspace, record.channel, record.due_at)
        if key not in self.rounds:
            self.rounds[key] = replace(record, groups=())
            for group in record.groups:
                group_id = len(self.groups) + 1
                self.groups[group_id] = replace(group, id=group_id)
        return self._full(self.rounds[key])

    async def mark_round(self, workspace: str, channel: str, due_at: datetime, *, status: str | None = None,
                         checkin_at: datetime | None = None, checkin_sent: bool | None = None) -> None:
        key = (workspace, channel, due_at)
        values = given(status=status, checkin_at=checkin_at, checkin_sent=checkin_sent)
        self.rounds[key] = replace(self.rounds[key], **values)

    def _select(self, keep: Any, newest: bool = True) -> list:
        found = sorted((r for r in self.rounds.values() if keep(r)), key=lambda r: r.due_at, reverse=newest)
        return [self._full(r) for r in found]

    async def last_round(self, workspace: str, channel: str) -> Any:
        found = self._select(lambda r: (r.workspace, r.channel) == (workspace, channel))
        return found[0] if found else None

    async def recent_rounds(self, workspace: str, channel: str, before: datetime, limit: int) -> list:
        return self._select(lambda r: (r.workspace, r.channel) == (workspace, channel) and r.due_at < before
                            and r.status in ("planned", "sent"))[:max(limit, 0)]

    async def due_checkins(self, now: datetime) -> list:
        return self._select(lambda r: r.status == "sent" and not r.checkin_sent and r.checkin_at <= now, False)

    async def rounds_to_close(self, workspace: str, channel: str, before: datetime) -> list:
        return self._select(lambda r: (r.workspace, r.channel) == (workspace, channel) and r.due_at < before
                            and r.checkin_sent and not r.closed, False)

    async def close_round(self, workspace: str, channel: str, due_at: datetime) -> None:
        record = self.rounds[(workspace, channel, due_at)]
        if record.closed:
            return
        self.rounds[(workspace, channel, due_at)] = replace(record, closed=True)
        for group in (g for g in self._full(record).groups if g.index >= 0):  # as SQL: a group of one too
            for seat in group.seats:
                member = self.members.get((workspace, channel, seat.user))
                if member is None or seat.checkin != "sent" or seat.answer:
                    continue
                self.members[(workspace, channel, seat.user)] = replace(member, missed=member.missed + 1)

    async def set_seat(self, group_id: int, user: str, *, dm: str | None = None, checkin: str | None = None,
                       ) -> None:
        from bot.coffee.rounds import with_seat

        values = given(dm=dm, checkin=checkin)
        self.groups[group_id] = with_seat(self.groups[group_id], user, **values)

    async def set_conversation(self, group_id: int, conversation: str) -> None:
        if group_id in self.groups:
            self.groups[group_id] = replace(self.groups[group_id], conversation=conversation)

    async def group(self, group_id: int) -> Any:
        return self.groups.get(group_id)

    async def latest_group(self, workspace: str, user: str, channel: str | None = None) -> Any:
        mine = [g for g in self.groups.values() if g.workspace == workspace and g.index >= 0 and user in g.members
                and channel in (None, g.channel)]
        return max(mine, key=lambda g: g.due_at) if mine else None

    async def answer(self, group_id: int, user: str, answer: str, now: datetime) -> Any:
        group = self.groups.get(group_id)
        if group is None or user not in group.members:
            return None
        from bot.coffee.rounds import with_seat

        self.groups[group_id] = with_seat(group, user, answer=answer, answered_at=now)
        member = self.members.get((group.workspace, group.channel, user))
        if member is not None:
            self.members[(group.workspace, group.channel, user)] = replace(member, missed=0)
        return self.groups[group_id]

    async def meetings_since(self, workspace: str, since: datetime) -> list:
        from bot.domain.coffee import Meeting

        meetings = [Meeting(g.workspace, g.channel, g.round_key, g.members, g.met_at) for g in self.groups.values()
                    if g.workspace == workspace and g.met_at is not None and g.met_at >= since]
        return sorted(meetings, key=lambda m: m.met_at)

    async def introductions_since(self, workspace: str, since: datetime) -> list:
        from bot.domain.coffee import Introduction

        found = [Introduction(ws, n, a, b, by, at) for n, (ws, a, b, by, at) in enumerate(self.introductions, start=1)
                 if ws == workspace and at >= since]
        return sorted(found, key=lambda i: (i.made_at, i.id))

    async def record_introduction(self, workspace: str, a: str, b: str, introducer: str, at: datetime) -> None:
        self.introductions.append((workspace, a, b, introducer, at))

    async def export_member(self, workspace: str, user: str) -> dict:
        from bot.domain.coffee import export_document

        document = export_document(
            [m for (ws, _, u), m in sorted(self.members.items()) if (ws, u) == (workspace, user)],
            [b for ws, a, b in self.avoid_rows if (ws, a) == (workspace, user)],
            [g for g in self.groups.values() if g.workspace == workspace and user in g.members], user,
            [ch for (ws, ch), s in sorted(self.settings.items()) if ws == workspace and s.manager == user])
        document["introductions"] = [{"a": a, "b": b, "introducer": by, "made_at": at.isoformat()}
                                     for ws, a, b, by, at in self.introductions
                                     if ws == workspace and user in (a, b, by)]
        return document

    async def erase_member(self, workspace: str, user: str) -> int:
        before = len(self.members) + len(self.avoid_rows) + sum(len(g.seats) + 1 for g in self.groups.values())
        managed = [k for k, s in self.settings.items() if k[0] == workspace and s.manager == user]
        for key in managed:
            self.settings[key] = replace(self.settings[key], manager=None)
        self.members = {k: m for k, m in self.members.items() if (k[0], k[2]) != (workspace, user)}
        self.avoid_rows = {a for a in self.avoid_rows if a[0] != workspace or user not in a[1:]}
        kept = {i: g.without(user) if g.workspace == workspace else g for i, g in self.groups.items()}
        self.groups = {i: g for i, g in kept.items() if g.seats}
        self.introductions = [i for i in self.introductions if i[0] != workspace or user not in i[1:4]]
        return (before + len(managed) - len(self.members) - len(self.avoid_rows)
                - sum(len(g.seats) + 1 for g in self.groups.values()))


@dataclass
class FakeStore:
    members: FakeMembers = field(default_factory=FakeMembers)
    graph: FakeGraph = field(default_factory=FakeGraph)
    runs: FakeRuns = field(default_factory=FakeRuns)
    privacy: FakePrivacy = field(default_factory=FakePrivacy)
    profiles: FakeProfiles = field(default_factory=FakeProfiles)
    personal: list = field(default_factory=list)
    nudges: FakeNudges = field(default_factory=FakeNudges)
    coffee: FakeCoffee = field(default_factory=FakeCoffee)
    up: bool = True  # False: the database is unreachable

    def __post_init__(self) -> None:
        self.privacy.graph = self.graph
        self.privacy.store = self
        self.members.erased = self.privacy.erased
        self.personal.insert(0, FakeCoreData(self.members, self.graph, self.privacy.paused))
        self.personal.append(self.profiles)
        self.nudges.graph = self.graph
        self.personal.append(self.nudges)
        self.personal.append(self.coffee)

    async def reachable(self) -> bool:
        return self.up

    async def close(self) -> None:
        pass
