"""The tables. Metadata only: ids, times, counts and flags; never message text.

Every table is keyed by workspace first, so one workspace's rows never mix with another's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, Index, Integer, LargeBinary, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(64)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone and would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class MemberRow(Base):
    __tablename__ = "members"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    tz: Mapped[str | None] = mapped_column(String(64))
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False)


class MessageRow(Base):
    """One row per message seen: for de-duplication and to link later replies. No text."""

    __tablename__ = "messages"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    message_id: Mapped[str] = mapped_column(ID, primary_key=True)
    channel: Mapped[str] = mapped_column(ID)
    author: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    thread_id: Mapped[str | None] = mapped_column(ID)
    reply_to: Mapped[str | None] = mapped_column(ID)
    is_question: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_messages_scope", "workspace", "channel", "thread_id", "at"),)


class AddresseeRow(Base):
    """Whom a flat-chat message speaks to at its start or mentions: ids only, for the reply ranker's features when
    the message is a candidate in another process or after a restart. A table of its own so that erasing a member
    removes them from other people's messages too."""

    __tablename__ = "message_addressees"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    message_id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    spoken_to: Mapped[bool] = mapped_column(Boolean)
    mentioned: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the message's time, for retention

    __table_args__ = (Index("ix_message_addressees_user", "workspace", "user_id"),)


class QuestionRow(Base):
    """A question from asker to addressee ('' while an open question waits for its first answer)."""

    __tablename__ = "questions"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    message_id: Mapped[str] = mapped_column(ID, primary_key=True)
    addressee: Mapped[str] = mapped_column(ID, primary_key=True)
    channel: Mapped[str] = mapped_column(ID)
    thread_id: Mapped[str | None] = mapped_column(ID)
    asker: Mapped[str] = mapped_column(ID)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_id: Mapped[str | None] = mapped_column(ID)

    __table_args__ = (
        Index("ix_questions_open", "workspace", "channel", "answered_at", "deadline"),
        Index("ix_questions_pair", "workspace", "asker", "addressee"),
        Index("ix_questions_addressee", "workspace", "addressee"),
    )


class ContactRow(Base):
    """A directed interaction between two members caused by one message (or meeting)."""

    __tablename__ = "contacts"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    message_id: Mapped[str] = mapped_column(ID, primary_key=True)
    source: Mapped[str] = mapped_column(ID, primary_key=True)
    target: Mapped[str] = mapped_column(ID, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    day: Mapped[int] = mapped_column(Integer)  # days since 1970-01-01 UTC: rhythm is counted in days
    kind: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_contacts_source", "workspace", "source"),
        Index("ix_contacts_target", "workspace", "target"),
    )



class RunRow(Base):
    """A claimed scheduled run (a coffee round, a day's nudges). The primary key is what makes it run once."""

    __tablename__ = "runs"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryRow(Base):
    """One message of a run to one recipient: reserved before sending, so a resumed run never sends it twice."""

    __tablename__ = "deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    recipient: Mapped[str] = mapped_column(ID, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # sending, sent, failed
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrackingPauseRow(Base):
    """A member who asked not to be observed for now (`/rapport pause-tracking`)."""

    __tablename__ = "tracking_pauses"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class ErasedMemberRow(Base):
    """An erased member is never tracked again. Only a one-way hash is kept, never the id itself."""

    __tablename__ = "erased_members"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    user_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkspaceSettingsRow(Base):
    __tablename__ = "workspace_settings"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    retention_days: Mapped[int] = mapped_column(Integer, default=365)


class ProfileRow(Base):
    """What a member chose to share (`/rapport profile`): their own words, shown to their workspace."""

    __tablename__ = "profiles"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    environment: Mapped[str] = mapped_column(String(300), default="")
    behaviour: Mapped[str] = mapped_column(String(300), default="")
    capability: Mapped[str] = mapped_column(String(300), default="")
    beliefs: Mapped[str] = mapped_column(String(300), default="")
    identity: Mapped[str] = mapped_column(String(300), default="")
    spirit: Mapped[str] = mapped_column(String(300), default="")
    looking_for: Mapped[str] = mapped_column(String(300), default="")
    tz: Mapped[str | None] = mapped_column(String(64))
    work_start: Mapped[int | None] = mapped_column(Integer)
    work_end: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProfileVectorsRow(Base):
    """The embeddings of a profile's interest phrases made by one matcher, so the model runs once per phrase. One
    row per member and matcher (the phrase keys, one a line, and their vectors end to end): a coffee round reads a
    whole channel's at once, and 20,000 rows are read much faster than 160,000 (one per phrase, as before 0011).

    Kept per profile (not shared across members) so deleting a profile deletes every trace of its words."""

    __tablename__ = "profile_vectors"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    matcher: Mapped[str] = mapped_column(String(32), primary_key=True)
    phrases: Mapped[str] = mapped_column(Text)  # bot.domain.profiles.normalise_phrase keys, one a line
    vectors: Mapped[bytes] = mapped_column(LargeBinary)  # little-endian float32, in the order of `phrases`


class NudgeRow(Base):
    """A nudge planned for a member (bot/nudges/nudges.py): ids and times only; its words are composed when it is sent.

    `dedup` (kind, the other person, what it is about) is unique per recipient: the same nudge is never planned
    twice."""

    __tablename__ = "nudges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(ID)
    recipient: Mapped[str] = mapped_column(ID)
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(ID)  # the other person ('' when none)
    ref: Mapped[str] = mapped_column(String(160))  # the question's message id, the meeting, the episode
    dedup: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(ID)
    value: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it became relevant; stale some days later
    deliver_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the next moment it may go out
    status: Mapped[str] = mapped_column(String(16))  # pending, sent, done, dropped, expired, failed
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempt: Mapped[int] = mapped_column(Integer, default=0)  # a snooze re-delivers it as a new attempt

    __table_args__ = (
        Index("ux_nudges_dedup", "workspace", "recipient", "dedup", unique=True),
        Index("ix_nudges_due", "status", "deliver_at"),
        Index("ix_nudges_subject", "workspace", "subject"),
    )


class NudgeSettingsRow(Base):
    """A member's own nudge settings; no row means the defaults of bot/nudges/policy.py."""

    __tablename__ = "nudge_settings"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_start: Mapped[int | None] = mapped_column(Integer)  # minutes after local midnight
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    cap: Mapped[int] = mapped_column(Integer)
    days_off: Mapped[str] = mapped_column(String(16))  # weekdays, e.g. "5,6"
    muted: Mapped[str] = mapped_column(String(200))  # nudge kinds, comma-separated


class NudgeShareRow(Base):
    """That a member shared something with another (`/rapport share`): who, whom, when. Never the link or note."""

    __tablename__ = "nudge_shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(ID)
    giver: Mapped[str] = mapped_column(ID)
    receiver: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_nudge_shares_giver", "workspace", "giver"),
        Index("ix_nudge_shares_receiver", "workspace", "receiver"),
    )


class CoffeeChannelRow(Base):
    """A channel's virtual coffee schedule (bot/coffee/rounds.py ChannelSettings). next_run_at NULL: stopped."""

    __tablename__ = "coffee_channels"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    channel: Mapped[str] = mapped_column(ID, primary_key=True)
    cadence: Mapped[str] = mapped_column(String(16))
    weekday: Mapped[int] = mapped_column(Integer)
    hour: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)
    tz: Mapped[str] = mapped_column(String(64))
    anchor: Mapped[date] = mapped_column(Date)
    group_size: Mapped[int] = mapped_column(Integer)
    cross_teams: Mapped[bool] = mapped_column(Boolean)
    no_repeat: Mapped[int] = mapped_column(Integer)
    next_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    manager: Mapped[str | None] = mapped_column(ID)  # who set it up; erasing them sets NULL


class CoffeeMemberRow(Base):
    """A member who joined a channel's virtual coffee; leaving deletes the row."""

    __tablename__ = "coffee_members"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    channel: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    team: Mapped[str] = mapped_column(String(64))
    paused: Mapped[bool] = mapped_column(Boolean)
    paused_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str] = mapped_column(String(16))
    skip_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_coffee_members_user", "workspace", "user_id"),)


class CoffeeAvoidRow(Base):
    """`user_id` never wants to be grouped with `avoided`. Private: never shown to `avoided`."""

    __tablename__ = "coffee_avoid"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    avoided: Mapped[str] = mapped_column(ID, primary_key=True)

    __table_args__ = (Index("ix_coffee_avoid_avoided", "workspace", "avoided"),)


class CoffeeRoundRow(Base):
    """One round of a channel: planned, sent, empty (too few people) or missed (later than the grace period)."""

    __tablename__ = "coffee_rounds"

    workspace: Mapped[str] = mapped_column(ID, primary_key=True)
    channel: Mapped[str] = mapped_column(ID, primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    checkin_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checkin_sent: Mapped[bool] = mapped_column(Boolean)
    closed: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(300))

    __table_args__ = (Index("ix_coffee_rounds_checkin", "checkin_sent", "checkin_at"),)


class CoffeeGroupRow(Base):
    """A group of a round (idx -1: those who could not be placed). Reasons hold no profile text."""

    __tablename__ = "coffee_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(ID)
    channel: Mapped[str] = mapped_column(ID)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    idx: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text)  # one per line
    suggested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conversation: Mapped[str | None] = mapped_column(ID)  # the platform's id of the group's conversation

    __table_args__ = (Index("ix_coffee_groups_round", "workspace", "channel", "due_at", "idx", unique=True),)


class CoffeeSeatRow(Base):
    """A member's place in a group: whether the pairing DM and the check-in reached them, and their answer."""

    __tablename__ = "coffee_seats"

    group_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    workspace: Mapped[str] = mapped_column(ID)
    position: Mapped[int] = mapped_column(Integer)
    dm: Mapped[str] = mapped_column(String(16))
    checkin: Mapped[str] = mapped_column(String(16))
    answer: Mapped[str | None] = mapped_column(String(16))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_coffee_seats_user", "workspace", "user_id"),)


class IntroductionRow(Base):
    """A warm introduction that went out: `introducer` introduced `a` and `b` (nudges follow it up)."""

    __tablename__ = "introductions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(ID, index=True)
    a: Mapped[str] = mapped_column(ID)
    b: Mapped[str] = mapped_column(ID)
    introducer: Mapped[str] = mapped_column(ID)
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
