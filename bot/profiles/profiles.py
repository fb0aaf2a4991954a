"""Profiles: what members choose to share about themselves, along the six levels of rapport.

`/rapport profile` opens a two-page form (Discord modals hold at most five inputs), `/rapport profile @someone`
shows a profile, `/rapport profile clear` deletes your own. Every field is optional and free text. Text is stored
as plain text: the adapter turns pasted mentions and links into what they read as (adapters/markup.py), the core
tidies it (bot.text.tidy) and neutralises everything it shows back (bot.text.shown), so a profile can never ping a
channel or smuggle in a link.

Interests are the phrases of each field (split on commas, semicolons, "and", newlines). Each phrase is embedded
once by the semantic matcher and its vector kept with the profile (bot.interests.vectors), so starters and matches
compare stored vectors instead of re-running the model over the workspace.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from bot.commands import Args, Context, FormHandler, Router, UsageError
from bot.domain.profiles import (
    TEXT_FIELDS,
    Profile,
)
from bot.events import zone_named
from bot.interests.vectors import phrase_vectors
from bot.ports import Matchers, Store
from bot.replies import Button, Form, FormField, Reply, Section
from bot.text import shown, tidy

log = logging.getLogger(__name__)

FIELD_MAX = 300  # characters per free-text field

LABELS = {
    "environment": "Where and when",
    "behaviour": "Hobbies, outside work",
    "capability": "Skills, languages, learning",
    "beliefs": "What matters to you",
    "identity": "How you describe yourself",
    "spirit": "What connects you to something larger",
    "looking_for": "Looking for",
    "tz": "Time zone",
    "working_hours": "Working hours",
}
HINTS = {
    "environment": "Where you are, background, places you have lived.",
    "behaviour": "e.g. trail running, sourdough, board games",
    "capability": "e.g. Python, Spanish, learning the cello",
    "beliefs": "What matters to you at work and in life.",
    "identity": "e.g. new parent, ex-chef, lifelong tinkerer",
    "spirit": "A cause, a community, a faith, nature...",
    "looking_for": "e.g. a mentor in public speaking, to learn Rust with others, clients, old friends",
    "tz": "An IANA name such as Europe/Berlin or America/New_York.",
    "working_hours": "Local hours, e.g. 09-17.",
}
PAGES: dict[str, tuple[str, ...]] = {
    "profile": ("environment", "tz", "working_hours", "behaviour", "capability"),
    "profile_more": ("beliefs", "identity", "spirit", "looking_for"),
}
PAGE_TITLES = {"profile": "Your profile (1 of 2)", "profile_more": "Your profile (2 of 2)"}
FORM_NOTE = (
    "Members of this workspace can see your profile (`/rapport profile @you`). Every field is optional; "
    "change it any time, or delete it with `/rapport profile clear`."
)


# --- validation ----------------------------------------------------------------------------------------------

_HOURS = re.compile(r"^\s*(\d{1,2})(?::00)?\s*(?:-|–|to)\s*(\d{1,2})(?::00)?\s*$", re.IGNORECASE)
def time_zone(value: str) -> str:
    """A valid IANA name (case-insensitive), or UsageError."""
    found = zone_named(value)
    if found is None:
        raise UsageError(f"I don't know the time zone “{shown(value[:64])}”. Use an IANA name such as "
                         "Europe/Berlin or America/New_York.")
    return found


def working_hours(value: str) -> tuple[int, int]:
    """'09-17' -> (9, 17); an overnight shift '22-06' is allowed. UsageError when it is not hours."""
    match = _HOURS.match(value)
    if match:
        start, end = int(match.group(1)), int(match.group(2))
        if 0 <= start <= 23 and 1 <= end <= 24 and start != end:
            return start, end
    raise UsageError(f"I could not read “{shown(value[:20])}” as working hours: write them like 09-17 "
                     "(hours from 0 to 24).")


@dataclass(frozen=True)
class Saved:
    profile: Profile
    notes: tuple[str, ...]


def apply_form(old: Profile, values: Mapping[str, str], page: Sequence[str],
               flattened: frozenset[str] = frozenset()) -> Saved:
    """The profile after a form submission, with a note for every value that was changed on the way in
    (`flattened`: the fields whose mentions and links the adapter turned into plain text).

    Only the page's fields present in `values` change; a bad time zone or working hours keeps the old value.
    """
    changes: dict[str, object] = {}
    notes: list[str] = []
    for name in page:
        if name not in values:
            continue
        raw = values[name] or ""
        if name == "tz":
            try:
                changes["tz"] = time_zone(raw) if raw.strip() else None
            except UsageError as error:
                notes.append(f"{error} I kept {'“' + old.tz + '”' if old.tz else 'it empty'}.")
            continue
        if name == "working_hours":
            try:
                changes["work_start"], changes["work_end"] = working_hours(raw) if raw.strip() else (None, None)
            except UsageError as error:
                notes.append(f"{error} I kept {old.working_hours or 'them empty'}.")
            continue
        text = tidy(raw)
        if name in flattened:
            notes.append(f"*{LABELS[name]}*: I stored mentions and links as plain text.")
        if len(text) > FIELD_MAX:
            cut = text[:FIELD_MAX]
            cut = cut[: cut.rfind(" ")] if " " in cut[FIELD_MAX // 2:] else cut
            notes.append(f"*{LABELS[name]}* was {len(text)} characters; I kept the first {len(cut)} "
                         f"(the limit is {FIELD_MAX}).")
            text = cut.rstrip(" ,;")
        changes[name] = text
    return Saved(replace(old, **changes), tuple(notes))  # type: ignore[arg-type]


async def time_zone_of(store: Store, workspace: str, user_id: str) -> str | None:
    """The member's time zone: the one in their profile, else the one their platform account reports."""
    profile = await store.profiles.get(workspace, user_id)
    if profile is not None and profile.tz:
        return profile.tz
    member = await store.members.get(workspace, user_id)
    return member.tz if member else None


# --- commands and forms --------------------------------------------------------------------------------------


def profile_form(profile: Profile, page: str) -> Form:
    values = {**{n: profile.text(n) for n in TEXT_FIELDS}, "tz": profile.tz or "",
              "working_hours": profile.working_hours}
    return Form(page, PAGE_TITLES[page], tuple(
        FormField(name, LABELS[name], values[name],
                  max_length=64 if name == "tz" else 11 if name == "working_hours" else FIELD_MAX,
                  multiline=name in TEXT_FIELDS, hint=HINTS[name])
        for name in PAGES[page]
    ), FORM_NOTE)


def view(profile: Profile, viewer: str, member_tz: str | None = None) -> Reply:
    whose = "Your profile" if profile.user_id == viewer else f"<@{profile.user_id}>'s profile"
    sections = [Section(LABELS[n], tuple(shown(line) for line in profile.text(n).split("\n")))
                for n in TEXT_FIELDS if profile.text(n)]
    when = []
    tz = profile.tz or member_tz
    if tz:
        whose_account = "your" if profile.user_id == viewer else "their"
        when.append(f"Time zone: {tz}" + ("" if profile.tz else f" (from {whose_account} account)"))
    if profile.working_hours:
        when.append(f"Working hours: {profile.working_hours} local time")
    if when:
        sections.insert(0, Section("Time", tuple(when)))
    note = "Shared with members of this workspace."
    buttons: tuple[Button, ...] = ()
    if profile.user_id == viewer:
        note += " Edit it with `/rapport profile`, delete it with `/rapport profile clear`."
        buttons = (Button("Edit", "profile_edit", "profile"),)
    return Reply(f"*{whose}*\n{note}", tuple(sections), buttons)


async def _own(ctx: Context) -> Profile:
    return await ctx.store.profiles.get(ctx.workspace, ctx.user) or Profile(ctx.workspace, ctx.user)


async def profile_command(ctx: Context, args: Args) -> Reply:
    other = args.optional_user()
    word = None if other else (args.optional_word() or "").lower()
    args.done()
    if word == "clear":
        if await ctx.store.profiles.delete(ctx.workspace, ctx.user):
            return Reply("Deleted your profile and the interests derived from it.")
        return Reply("You have no profile to delete.")
    if word in ("more", "2"):
        return Reply("Your profile, page 2 of 2", form=profile_form(await _own(ctx), "profile_more"))
    if word == "show":
        other = ctx.user
    elif word:
        raise UsageError(f"I did not understand `{word}`.")
    if other is None:
        return Reply("Your profile, page 1 of 2", form=profile_form(await _own(ctx), "profile"))
    member = await ctx.store.members.get(ctx.workspace, other)
    profile = await ctx.store.profiles.get(ctx.workspace, other)
    if profile is None or profile.is_empty:
        if other == ctx.user:
            return Reply("You have not filled in a profile yet. Start with `/rapport profile`.")
        if member is None:
            raise UsageError(f"I don't know <@{other}> in this workspace.")
        return Reply(f"<@{other}> has not filled in a profile yet.")
    return view(profile, ctx.user, member.tz if member else None)


async def edit_button(ctx: Context, value: str) -> Reply:
    page = value if value in PAGES else "profile"
    return Reply(f"Your profile, page {list(PAGES).index(page) + 1} of 2", form=profile_form(await _own(ctx), page))


async def index_profile(store: Store, matchers: Matchers, profile: Profile) -> None:
    """Embed a saved profile's phrases now, so the first starter request does not wait for the model."""
    try:
        await phrase_vectors(store, await matchers.aget(), [profile])
    except Exception:  # a failed embedding must never lose the save; starters embed lazily instead
        log.exception("could not embed the interests of a saved profile (workspace=%s)", profile.workspace)


def _submit(page: str) -> FormHandler:
    async def submit(ctx: Context, values: dict[str, str], flattened: frozenset[str]) -> Reply:
        old = await _own(ctx)
        saved = apply_form(old, values, PAGES[page], flattened)
        sections = (Section("Please note", saved.notes),) if saved.notes else ()
        if saved.profile.is_empty:  # the notes say which values were refused, and why
            if old.is_empty:
                return Reply("Nothing saved: " + ("nothing I could keep." if saved.notes else "every field was "
                             "empty.") + " Any one field is enough to start.", sections)
            return Reply("Every field would be empty now, so I kept your profile as it was. "
                         "To delete it, use `/rapport profile clear`.", sections)
        profile = replace(saved.profile, updated_at=ctx.clock.now())
        await ctx.store.profiles.save(profile)
        await index_profile(ctx.store, ctx.matchers, profile)
        text = "Saved your profile. Members of this workspace can see it with `/rapport profile @you`."
        buttons: tuple[Button, ...] = ()
        if page == "profile":
            text += "\nPage 2 (what matters to you, identity, looking for): `/rapport profile more`."
            buttons = (Button("Continue to page 2", "profile_edit", "profile_more", "primary"),)
        return Reply(text, sections, buttons)

    return submit


def register(router: Router) -> None:
    router.command("profile", "profile [@someone | more | show | clear]",
                   "share what you are into, see someone's profile, or delete yours")(profile_command)
    router.action("profile_edit")(edit_button)
    for page in PAGES:
        router.form(page)(_submit(page))
