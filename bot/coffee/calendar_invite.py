"""A suggested meeting as a calendar invite: an iCalendar (.ics) file and add-to-calendar links.

Everything is built here, from the meeting's time and the names of the people in it: no calendar API, no account,
no network. The file is RFC 5545 (icalendar); its UID is derived from the round and the group, so the invite a
member gets again (a resumed round, a DM after a group conversation failed) updates the same calendar entry
instead of adding a second. Times are written in UTC, which every calendar shows in its owner's own zone.

The links open a new event, filled in, in Google Calendar and in Outlook (Microsoft 365 on the web; the person's
own account decides where it is saved). They carry the title and a short description, never starters or anything
from profiles.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from bot.replies import Attachment

DURATION = timedelta(minutes=30)
PRODUCT = "-//Rapport//Virtual coffee//EN"
GOOGLE = "https://calendar.google.com/calendar/render"
OUTLOOK = "https://outlook.office.com/calendar/0/deeplink/compose"


@dataclass(frozen=True)
class Meeting:
    key: str  # stable per group and round: the invite's UID comes from it
    title: str
    description: str
    start: datetime  # aware
    duration: timedelta = DURATION

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    @property
    def uid(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()[:32] + "@rapport"


def ics(meeting: Meeting, stamp: datetime) -> bytes:
    """The meeting as an iCalendar file (METHOD:PUBLISH: an entry to add, no organizer to answer to)."""
    from icalendar import Calendar, Event  # only where an invite is made: a twentieth of a command's start

    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", meeting.uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", meeting.start.astimezone(UTC))
    event.add("dtend", meeting.end.astimezone(UTC))
    event.add("summary", meeting.title)
    event.add("description", meeting.description)
    event.add("transp", "OPAQUE")
    calendar.add_component(event)
    return calendar.to_ical()


def attachment(meeting: Meeting, stamp: datetime) -> Attachment:
    return Attachment("virtual-coffee.ics", ics(meeting, stamp))


def _compact(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_link(meeting: Meeting) -> str:
    return GOOGLE + "?" + urlencode({"action": "TEMPLATE", "text": meeting.title,
                                     "dates": f"{_compact(meeting.start)}/{_compact(meeting.end)}",
                                     "details": meeting.description})


def outlook_link(meeting: Meeting) -> str:
    def iso(at: datetime) -> str:
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    # Spaces as %20 (quote), not "+" (urlencode's default quote_plus): Outlook on the web shows a "+" in the
    # subject and body literally, so the entry read "Virtual+coffee:+Alice+and+Bob".
    return OUTLOOK + "?" + urlencode({"path": "/calendar/action/compose", "rru": "addevent",
                                      "subject": meeting.title, "startdt": iso(meeting.start),
                                      "enddt": iso(meeting.end), "body": meeting.description}, quote_via=quote)


def links(meeting: Meeting) -> tuple[str, ...]:
    """Lines for a message: one add-to-calendar link per calendar."""
    return (f"Google Calendar: {google_link(meeting)}", f"Outlook: {outlook_link(meeting)}")
