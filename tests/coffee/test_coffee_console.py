"""Issue 15, as a member hits it in the console workspace: coffee DMs, introductions and their wording."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.test_console import _console, _said


async def _weekly_with(session: Any, out: Any, *people: str) -> None:
    """Carol sets up weekly coffee in #engineering (Tuesdays 10:00) and `people` join it."""
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    for who in people:
        await _said(session, out, f"@{who} #engineering /rapport coffee join")


async def test_pairing_dm_starters_are_questions_you_would_ask(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@bob /rapport profile")
    await _said(session, out, '@bob form behaviour="sourdough baking, chess" capability=Kubernetes')
    await _weekly_with(session, out, "alice", "bob", "dave")
    dms = await _said(session, out, "+1d")
    asks = re.findall(r"  Ask @(\w+)\n((?:    - .*\n?)+)", dms)
    assert asks, dms
    for _, block in asks:
        for line in block.strip().splitlines():
            ask = line.strip().removeprefix("- ").split(" _(")[0]
            assert ask.endswith("?") and re.search(r"\byou\b|\byour\b", ask), line
            assert not re.search(r"\b(they|them|their)\b", ask), line
    about_bob = [block for name, block in asks if name == "Bob"]
    assert about_bob and all(re.search(r"sourdough|chess|Kubernetes", b) for b in about_bob), dms
    # Varied: the questions for different people are not one fixed list.
    assert len({block for _, block in asks}) > 1


async def _bob_knows_alice_and_dave(session: Any, out: list[str]) -> None:
    for line in ("@alice #general: bob: how do I rotate the staging keys?", "@bob ^1 there's a script in ops/",
                 "@dave #general: bob: where do the deploy logs live?", "@bob ^3 in the ops dashboard"):
        await _said(session, out, line)


async def test_a_second_intro_request_is_pending_and_thanks_go_to_the_introducer(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _bob_knows_alice_and_dave(session, out)
    first = await _said(session, out, "@alice /rapport intro @dave")
    assert "[DM to @Bob]" in first and "I asked @Bob" in first
    second = await _said(session, out, "@alice /rapport intro @dave")
    assert "the request is pending" in second and "I don't know anyone" not in second
    assert "[DM to @Bob]" not in second
    assert "[DM to @Dave]" in await _said(session, out, "@bob press 1")

    later = await _said(session, out, "+2d")
    for person, other in (("Alice", "Dave"), ("Dave", "Alice")):
        dms = [dm for dm in later.split("[DM to ")[1:] if dm.startswith(f"@{person}]")]
        assert any("@Bob made an introduction for you" in dm and "word of thanks" in dm for dm in dms), later
        assert not any(f"@{other} a word of thanks" in dm for dm in dms), later
    listed = await _said(session, out, "@dave /rapport nudges")
    assert "thank @Bob for an introduction: sent" in listed and "coffee" not in listed.split("Muted")[0]
    assert "about @" not in listed  # Bob made the introduction: the list once said "thanks ... about @Bob"


async def test_answering_before_the_check_in_dm_means_no_check_in_dm(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _weekly_with(session, out, "alice", "bob")
    assert "[group message to @Alice, @Bob]" in await _said(session, out, "+1d")
    assert "Glad you met" in await _said(session, out, "@alice /rapport coffee checkin met")
    checkins = await _said(session, out, "+5d")
    assert "[DM to @Bob] How did your virtual coffee with @Alice go?" in checkins  # Bob has not answered
    assert "[DM to @Alice] How did your virtual coffee" not in checkins
    assert "@Alice said we met" in await _said(session, out, "@carol #engineering /rapport coffee status")


async def test_avoid_and_share_refuse_what_is_not_there(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    nobody = await _said(session, out, "@alice /rapport coffee avoid @nobody")
    assert "I don't know @nobody" in nobody and "Noted" not in nobody
    assert "Noted, privately" in await _said(session, out, "@alice /rapport coffee avoid @dave")

    cut = await _said(session, out, "@alice /rapport share @bob https://exa mple.com note")
    assert "`https://exa` is not a whole web address" in cut and "[DM to @Bob]" not in cut
    sent = await _said(session, out, "@alice /rapport share @bob https://example.com/guide a good read")
    assert "[DM to @Bob] @Alice shared something with you:\nhttps://example.com/guide" in sent
    assert "Sent https://example.com/guide to @Bob" in sent


async def test_channel_managers_see_groups_but_no_stages_as_privacy_says(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    for line in ("@alice #general: bob: how do I rotate the staging keys?", "@bob ^1 there's a script in ops/"):
        await _said(session, out, line)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00 size 3")
    for who in ("alice", "bob", "dave"):
        await _said(session, out, f"@{who} #engineering /rapport coffee join")
    await _said(session, out, "+1d")
    status = await _said(session, out, "@carol #engineering /rapport coffee status")
    assert "Last round" in status and "@Alice & @Bob: 3 h of shared working hours" in status
    for stage in ("strangers so far", "only just started talking", "acquaintances", "peers", "trusted"):
        assert stage not in status, status
    privacy = await _said(session, out, "@dave /rapport privacy")
    assert "nobody sees your relationships with others" in privacy
    assert "manages it sees who was grouped with whom" in privacy and "never where two people stand" in privacy


async def test_help_names_real_form_fields(sql_store: Any) -> None:
    from bot.profiles.profiles import PAGES

    session, out = await _console(sql_store)
    fields = set(re.findall(r"(\w+)=", await _said(session, out, "help")))
    assert fields and fields <= {name for page in PAGES.values() for name in page}, fields


async def test_names_with_accents_and_apostrophes_can_be_mentioned(sql_store: Any, tmp_path: Any) -> None:
    import json

    from adapters.console.session import ConsoleSession
    from adapters.console.workspace import load_workspace

    path = tmp_path / "team.json"
    path.write_text(json.dumps({"workspace": "console", "members": [
        {"id": "zoe", "name": "Zoë", "admin": True}, {"id": "obrien", "name": "O'Brien"}, {"id": "bob", "name": "Bob"},
        {"id": "bobby", "name": "Bobby"}, {"id": "élodie", "name": "Élodie"}],
        "channels": [{"id": "general", "name": "general"}]}))
    base, out = await _console(sql_store)
    session = ConsoleSession(base.core, load_workspace(path), base.clock, out.append, last_reply=base.last_reply)
    await session.start()
    said = await _said(session, out, "@zoë /rapport starters @o'brien")
    assert "I don't know" not in said and "@O'Brien has not filled in a profile" in said, said
    said = await _said(session, out, "@o'brien /rapport profile @zoë")
    assert "I don't know" not in said and "@Zoë" in said, said
    said = await _said(session, out, "@o'brien /rapport profile @élodie")
    assert "not a person" not in said and "@Élodie" in said, said
    # In messages too, and "@bob's" mentions Bob while "@bobby" stays Bobby.
    await _said(session, out, "@zoë #general: @o'brien, can you look at the PR?")
    await _said(session, out, "@bob #general: @zoë can you check @bobby's branch?")
    assert "You asked @O'Brien 1 question" in await _said(session, out, "@zoë /rapport with @o'brien")
    assert "You asked @Zoë 1 question" in await _said(session, out, "@bob /rapport with @zoë")
    assert session._ref("bobby's") == "<@bobby>'s" and session._ref("bob.") == "<@bob>."


async def test_wording_counts_and_your_own_profile(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    assert "At most 1 nudge a week." in await _said(session, out, "@alice /rapport nudges cap 1")
    assert "At most 2 nudges a week." in await _said(session, out, "@alice /rapport nudges cap 2")
    await _said(session, out, "@alice /rapport profile")
    await _said(session, out, "@alice form behaviour=chess")
    mine = await _said(session, out, "@alice /rapport profile @alice")
    assert "(from your account)" in mine and "their" not in mine, mine
    assert "(from their account)" in await _said(session, out, "@bob /rapport profile @alice")


async def test_five_people_biweekly_no_repeat_3_rotate_fairly(sql_store: Any) -> None:
    """The issue's channel: round 5 repeated round 4 exactly and two people met in all five rounds."""
    from datetime import UTC, datetime
    from itertools import combinations, pairwise

    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup biweekly tuesday 10:00 no-repeat 3")
    for who in ("alice", "bob", "carol", "dave", "erin"):
        await _said(session, out, f"@{who} #engineering /rapport coffee join")
    await _said(session, out, "+1d")
    for _ in range(6):
        await _said(session, out, "+5d")  # check-ins: everyone met, so nobody is paused for silence
        for who in ("alice", "bob", "carol", "dave", "erin"):
            await _said(session, out, f"@{who} /rapport coffee checkin met")
        await _said(session, out, "+9d")
    held = await sql_store.coffee.recent_rounds("console", "engineering", datetime(2030, 1, 1, tzinfo=UTC), 10)
    rounds = [{frozenset(g.members) for g in r.placed} for r in reversed(held)]
    assert len(rounds) == 7 and all(sum(map(len, r)) == 5 for r in rounds), rounds
    for before, after in pairwise(rounds):
        assert not before & after, (before, after)  # no group of a round is formed again the next round
    met = [{frozenset(p) for g in r for p in combinations(sorted(g), 2)} for r in rounds]
    for a, b in combinations(["alice", "bob", "carol", "dave", "erin"], 2):
        together = [frozenset((a, b)) in m for m in met]
        assert not any(all(together[i:i + 3]) for i in range(len(together) - 2)), (a, b, together)


async def test_a_group_gets_one_message_with_everyones_time_and_a_calendar_file(sql_store: Any) -> None:
    from datetime import datetime
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from icalendar import Calendar

    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00 size 3")
    for who in ("alice", "bob", "carol"):
        await _said(session, out, f"@{who} #engineering /rapport coffee join")
    said = await _said(session, out, "+1d")
    (to,) = re.findall(r"\[group message to ([^\]]+)\]", said)
    assert sorted(to.split(", ")) == ["@Alice", "@Bob", "@Carol"] and "[DM to" not in said
    (path,) = re.findall(r"  file: (\S+\.ics)", said)
    (event,) = Calendar.from_ical(await asyncio.to_thread(Path(path).read_text)).walk("VEVENT")
    start = event.decoded("dtstart")
    for name, zone in (("Alice", "Europe/Lisbon"), ("Bob", "America/New_York"), ("Carol", "Europe/Berlin")):
        local = start.astimezone(ZoneInfo(zone)).strftime("%a %d %b, %H:%M")
        assert f"- @{name}: {local} ({zone})" in said  # each in their own zone
    assert start > datetime(2026, 3, 3, 10, tzinfo=ZoneInfo("UTC"))  # after the round, inside working hours
    assert all(name in str(event["summary"]) for name in ("Alice", "Bob", "Carol"))
    assert "calendar.google.com" in said and "outlook.office.com" in said


async def test_a_jump_in_time_runs_each_round_and_check_in_at_its_own_time(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "at 2026-03-02T09:00")
    await _weekly_with(session, out, "alice", "bob", "dave")
    jumped = await _said(session, out, "+15d")
    # As if the bot had been running: the rounds of 3, 10 and 17 March, each followed by its check-in; after two
    # check-ins nobody answered, members are paused, so the third round has too few people.
    rounds = [m.start() for m in re.finditer("you are this round's group", jumped)]
    check_ins = [(m.start(), m.group(1)) for m in re.finditer(r"round of (\d\d \w\w\w)\)", jumped)]
    assert len(rounds) == 2 and [day for _, day in check_ins] == ["03 Mar", "10 Mar"], jumped
    assert rounds[0] < check_ins[0][0] < rounds[1] < check_ins[1][0]
    assert "paused your virtual coffee" in jumped and "missed" not in jumped
    status = await _said(session, out, "@carol #engineering /rapport coffee status")
    assert "Last round (17 Mar 2026" in status and "missed" not in status


async def test_pausing_until_the_first_day_of_the_calendar_is_refused_not_a_crash(sql_store: Any) -> None:
    """Dave is in Asia/Kolkata: midnight of 0001-01-01 there is before the earliest UTC time Python can hold."""
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    await _said(session, out, "@dave #engineering /rapport coffee join")
    said = await _said(session, out, "@dave #engineering /rapport coffee pause until 0001-01-01")
    assert "That date has passed" in said
    assert not (await sql_store.coffee.membership("console", "engineering", "dave")).paused
    assert "Paused until 2026-03-03" in await _said(session, out,
                                                    "@dave #engineering /rapport coffee pause until 2026-03-03")


async def test_the_channel_may_come_after_the_answer_or_the_team(sql_store: Any) -> None:
    """The check-in itself says to answer with `/rapport coffee checkin met #engineering`; README writes
    `coffee join #team` and `checkin met #team`. Typed in #random, each acts on #engineering."""
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    joined = await _said(session, out, "@dave #random /rapport coffee join team Data #engineering")
    assert "You are in virtual coffee in #engineering" in joined
    assert (await sql_store.coffee.membership("console", "engineering", "dave")).team == "Data"
    await _said(session, out, "@bob #random /rapport coffee join #engineering")
    checkin = await _said(session, out, "+1d") + await _said(session, out, "+5d")
    assert "`/rapport coffee checkin met|not-yet|couldnt #engineering`" in checkin
    assert "Glad you met" in await _said(session, out, "@dave #random /rapport coffee checkin met #engineering")
    group = await sql_store.coffee.latest_group("console", "dave", "engineering")
    assert [s.answer for s in group.seats if s.user == "dave"] == ["met"]


async def test_joining_twice_is_not_a_welcome_back(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    assert "You are in virtual coffee" in await _said(session, out, "@bob #engineering /rapport coffee join")
    again = await _said(session, out, "@bob #engineering /rapport coffee join")
    assert "You are already in virtual coffee in #engineering" in again and "Welcome back" not in again
    await _said(session, out, "@bob #engineering /rapport coffee skip")
    assert "Welcome back to virtual coffee" in await _said(session, out, "@bob #engineering /rapport coffee join")
    await _said(session, out, "@bob #engineering /rapport coffee pause until 2026-06-01")
    assert "Welcome back to virtual coffee" in await _said(session, out, "@bob #engineering /rapport coffee join")


async def test_unavoid_says_when_there_was_nothing_to_undo(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    for who in ("zed", "carol"):
        said = await _said(session, out, f"@bob /rapport coffee unavoid @{who}")
        assert "was not on your avoid list" in said and "is off your avoid list" not in said, said
    noted = await _said(session, out, "@bob /rapport coffee avoid @carol")
    assert "`/rapport coffee unavoid @Carol` undoes it" in noted
    assert "@Carol is off your avoid list" in await _said(session, out, "@bob /rapport coffee unavoid @carol")
    assert await sql_store.coffee.avoid_pairs("console", ["bob", "carol"]) == set()


async def test_a_team_name_is_shown_inert_in_status_and_insights(sql_store: Any) -> None:
    """A team name is member-written text, like a profile: never a ping, a person's name tag or a link."""
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    await _said(session, out, "@bob #engineering /rapport coffee join team <!channel> @alice https://x.example")
    said = (await _said(session, out, "@carol #engineering /rapport coffee status")
            + await _said(session, out, "@alice #engineering /rapport insights"))
    assert "@Bob (‹!channel› ‹@\u200balice› https://x.example)" in said, said
    assert "<!channel>" not in said and "@Alice" not in said.replace("only @Alice sees this", "")


async def test_skip_while_paused_does_not_promise_the_round_after(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    await _said(session, out, "@bob #engineering /rapport coffee join")
    await _said(session, out, "@bob #engineering /rapport coffee pause until 2026-04-01")
    said = await _said(session, out, "@bob #engineering /rapport coffee skip")
    assert "You are paused until 2026-04-01" in said and "back in after that" not in said, said
    member = await sql_store.coffee.membership("console", "engineering", "bob")
    assert member.paused and member.skip_at is None


async def test_a_pair_already_introduced_is_not_introduced_again(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _bob_knows_alice_and_dave(session, out)
    await _said(session, out, "@alice /rapport intro @dave")
    await _said(session, out, "@bob press 1")
    await _said(session, out, "+3d")
    again = await _said(session, out, "@dave /rapport intro @alice")
    assert "@Bob introduced you to @Alice on 02 Mar: just say hello!" in again, again
    assert "[DM to" not in again
    await _said(session, out, "+30d")
    assert "[DM to @Bob]" in await _said(session, out, "@dave /rapport intro @alice")  # a month on, asked afresh


async def test_an_intro_to_someone_who_avoids_you_is_not_asked_and_reads_like_any_other_refusal(
        sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _bob_knows_alice_and_dave(session, out)
    for line in ("@erin #general: bob: who runs the on-call rota?", "@bob ^5 I do this month"):
        await _said(session, out, line)  # Bob knows Erin too, so only her pause stands between her and Alice
    await _said(session, out, "@dave /rapport coffee avoid @alice")
    await _said(session, out, "@erin /rapport pause-tracking")

    said = {who: await _said(session, out, f"@alice /rapport intro @{who}") for who in ("dave", "erin", "carol")}
    assert not any("[DM to" in reply for reply in said.values()), said  # neither Bob nor the person is asked
    # Carol shares no colleague with Alice, Erin paused tracking, Dave avoids Alice: one answer for all three.
    assert "I can't arrange an introduction to @Carol" in said["carol"], said
    assert said["dave"].replace("@Dave", "@X") == said["erin"].replace("@Erin", "@X") \
        == said["carol"].replace("@Carol", "@X"), said
    assert "avoid" not in said["dave"].lower()

    await _said(session, out, "@dave /rapport coffee unavoid @alice")
    assert "[DM to @Bob]" in await _said(session, out, "@alice /rapport intro @dave")  # the avoid was the reason


async def test_an_intro_blocked_by_your_own_avoid_list_or_pause_says_so(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _bob_knows_alice_and_dave(session, out)
    await _said(session, out, "@alice /rapport coffee avoid @dave")
    said = await _said(session, out, "@alice /rapport intro @dave")
    assert "@Dave is on your coffee avoid list" in said and "coffee unavoid @Dave" in said, said
    assert "[DM to" not in said
    await _said(session, out, "@alice /rapport coffee unavoid @dave")
    await _said(session, out, "@alice /rapport pause-tracking")  # her own pause, told as plainly
    said = await _said(session, out, "@alice /rapport intro @dave")
    assert "Tracking is paused for you" in said and "resume-tracking" in said and "[DM to" not in said, said


async def test_a_pending_intro_is_not_made_once_either_avoids_the_other(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _bob_knows_alice_and_dave(session, out)
    assert "[DM to @Bob]" in await _said(session, out, "@alice /rapport intro @dave")
    await _said(session, out, "@dave /rapport coffee avoid @alice")  # while the request waits in Bob's DMs
    pressed = await _said(session, out, "@bob press 1")
    assert "no longer available" in pressed and "[DM to" not in pressed, pressed
    assert (await sql_store.coffee.export_member("console", "alice"))["introductions"] == []


async def test_a_colleague_in_an_avoid_pair_with_either_is_not_the_one_asked(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _bob_knows_alice_and_dave(session, out)
    for line in ("@alice #general: carol: is the release branch cut?", "@carol ^5 yes, this morning",
                 "@dave #general: carol: can I merge today?", "@carol ^7 after the freeze"):
        await _said(session, out, line)
    await _said(session, out, "@dave /rapport coffee avoid @bob")
    said = await _said(session, out, "@alice /rapport intro @dave")
    assert "I asked @Carol" in said and "[DM to @Carol]" in said and "[DM to @Bob]" not in said, said


async def test_changing_a_running_coffee_announces_the_next_round_not_the_first(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    assert "First round: Tue 03 Mar" in await _said(session, out,
                                                    "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    for who in ("alice", "bob"):
        await _said(session, out, f"@{who} #engineering /rapport coffee join")
    await _said(session, out, "+1d")
    changed = await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00 size 3")
    assert "Next round: Tue 10 Mar" in changed and "First round" not in changed, changed


async def test_each_member_presses_the_group_check_in_for_themselves(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _weekly_with(session, out, "bob", "dave")
    await _said(session, out, "+1d")
    assert "[group message to @Bob, @Dave] How did your virtual coffee go" in await _said(session, out, "+5d")
    assert "Glad you met" in await _said(session, out, "@bob press 1")
    assert "Maybe next round" in await _said(session, out, "@dave press 3")
    group = await sql_store.coffee.latest_group("console", "bob", "engineering")
    assert {s.user: s.answer for s in group.seats} == {"bob": "met", "dave": "couldnt"}


async def test_coffee_and_a_channel_alone_is_that_channels_status(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    said = await _said(session, out, "@bob #random /rapport coffee #engineering")
    assert "*Virtual coffee in #engineering*" in said and "Next round" in said, said
    avoid = await _said(session, out, "@bob #random /rapport coffee avoid @dave #engineering")
    assert "holds in every channel" in avoid and "Noted" not in avoid


async def test_what_the_coffee_messages_tell_members_to_type_works_where_they_read_it(sql_store: Any) -> None:
    """The introduction and the pause notice are read in a group message or a DM, not in the coffee channel:
    the commands they give name the channel, and work typed anywhere else."""
    session, out = await _console(sql_store)
    await _weekly_with(session, out, "bob", "dave")
    intro = await _said(session, out, "+1d")
    assert "`/rapport coffee skip #engineering`" in intro and "`/rapport coffee skip`" not in intro, intro
    assert "sit out" in await _said(session, out, "@bob #general /rapport coffee skip #engineering")
    engineering = await sql_store.coffee.channel("console", "engineering")
    assert (await sql_store.coffee.membership("console", "engineering", "bob")).skip_at == engineering.next_run_at

    later = "".join([await _said(session, out, "+7d") for _ in range(3)])
    assert "paused your virtual coffee in #engineering" in later
    assert "`/rapport coffee join #engineering` brings you back" in later, later


async def test_a_link_to_a_non_latin_domain_is_shared(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    sent = await _said(session, out, "@alice /rapport share @bob https://例え.テスト/ページ worth a look")
    assert "[DM to @Bob] @Alice shared something with you:\nhttps://例え.テスト/ページ" in sent, sent


async def test_replies_about_another_channel_say_how_to_join_that_channel(sql_store: Any) -> None:
    """Typed in #random about #engineering, a bare `coffee join` in the reply would join #random."""
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    join = "`/rapport coffee join #engineering`"
    for line, says in (("coffee status #engineering", "You are not in: " + join),
                       ("coffee skip #engineering", "You are not in virtual coffee in #engineering: " + join),
                       ("coffee join #engineering", "You are in virtual coffee in #engineering"),
                       ("coffee pause #engineering until 2026-04-01", "Paused until 2026-04-01"),
                       ("coffee status #engineering", "You are paused until 2026-04-01: " + join),
                       ("coffee skip #engineering", join + " brings you back"),
                       ("coffee leave #engineering", "You have left virtual coffee in #engineering. " + join)):
        said = await _said(session, out, f"@bob #random /rapport {line}")
        assert says in said and "`/rapport coffee join`" not in said, said
    assert "You are not in: `/rapport coffee join`." in await _said(session, out,
                                                                    "@dave #engineering /rapport coffee status")


async def test_joining_with_a_team_says_the_team_back(sql_store: Any) -> None:
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    await _said(session, out, "@bob #engineering /rapport coffee join team Web")
    said = await _said(session, out, "@bob #engineering /rapport coffee join team Platform Ops")
    assert "You are already in virtual coffee in #engineering. Your team: Platform Ops." in said, said
    assert (await sql_store.coffee.membership("console", "engineering", "bob")).team == "Platform Ops"


async def test_nobody_is_left_out_when_avoid_lists_leave_a_way_to_group_everyone(sql_store: Any) -> None:
    # Erin avoids Dave and Dave avoids Alice: Dave can still meet Bob or Carol. The matching once left Dave over
    # first (by working hours), found both pairs holding someone he may not meet, and sat him out.
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00 size 2")
    for who in ("alice", "bob", "carol", "dave", "erin"):
        await _said(session, out, f"@{who} #engineering /rapport coffee join")
    await _said(session, out, "@erin /rapport coffee avoid @dave")
    await _said(session, out, "@dave /rapport coffee avoid @alice")
    round_one = await _said(session, out, "+1d")
    assert "No group this time" not in round_one, round_one
    groups = re.findall(r"\[group message to ([^\]]+)\] \*Virtual coffee from", round_one)
    assert sorted(n for g in groups for n in g.split(", ")) == ["@Alice", "@Bob", "@Carol", "@Dave", "@Erin"]
    for g in groups:
        assert not {"@Erin", "@Dave"} <= set(g.split(", ")) and not {"@Dave", "@Alice"} <= set(g.split(", "))


async def test_the_outlook_link_spells_spaces_as_outlook_reads_them(sql_store: Any) -> None:
    # Outlook on the web shows "+" literally in a deeplink's subject and body: spaces must be %20.
    from urllib.parse import parse_qs, unquote, urlsplit

    session, out = await _console(sql_store)
    await _weekly_with(session, out, "alice", "carol")
    said = await _said(session, out, "+1d")
    (link,) = re.findall(r"Outlook: (\S+)", said)
    query = urlsplit(link).query
    assert "+" not in query, link
    fields = {k: v[0] for k, v in parse_qs(query).items()}
    assert fields["subject"] == "Virtual coffee: Alice and Carol"
    assert unquote(query.split("body=")[1]).startswith("Virtual coffee arranged by Rapport for Alice and Carol.")
    assert fields["path"] == "/calendar/action/compose" and fields["startdt"].endswith("Z")


async def test_a_member_back_from_a_pause_is_still_paused_after_unanswered_check_ins(sql_store: Any) -> None:
    # Bob's pause until 4 March ends by itself (his membership keeps paused=True with a date past); rounds then
    # place him again, yet two unanswered check-ins later he was never paused, as anyone else would be.
    session, out = await _console(sql_store)
    await _weekly_with(session, out, "alice", "bob", "carol")
    await _said(session, out, "@bob #engineering /rapport coffee pause until 2026-03-04")
    said = ""
    for _ in range(4):  # the rounds of 3, 10, 17 and 24 March; Alice and Carol answer every check-in
        said += await _said(session, out, "+7d")
        for who in ("alice", "carol"):
            await _said(session, out, f"@{who} /rapport coffee checkin met")
    assert "[DM to @Bob] I have paused your virtual coffee in #engineering" in said, said
    assert "@Bob: paused" in await _said(session, out, "@carol #engineering /rapport coffee status")


async def test_a_skip_or_pause_that_is_over_is_not_a_welcome_back(sql_store: Any) -> None:
    # Bob sat out the round of 3 March and his pause until 5 March is over: he is simply in, and a join says so.
    session, out = await _console(sql_store)
    await _weekly_with(session, out, "alice", "bob", "carol")
    await _said(session, out, "@bob #engineering /rapport coffee skip")
    await _said(session, out, "+2d")
    again = await _said(session, out, "@bob #engineering /rapport coffee join")
    assert "You are already in virtual coffee in #engineering" in again and "Welcome back" not in again
    await _said(session, out, "@bob #engineering /rapport coffee pause until 2026-03-05")
    await _said(session, out, "+2d")
    again = await _said(session, out, "@bob #engineering /rapport coffee join")
    assert "You are already in virtual coffee in #engineering" in again and "Welcome back" not in again


async def test_a_pause_ends_on_the_day_the_member_typed_east_of_utc_too(sql_store: Any) -> None:
    # Midnight of 1 April in Berlin or Kolkata is 31 March in UTC: the replies said "paused until 2026-03-31".
    session, out = await _console(sql_store)
    await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 10:00")
    for who in ("carol", "dave", "bob"):
        await _said(session, out, f"@{who} #engineering /rapport coffee join")
        assert "Paused until 2026-04-01" in await _said(session, out,
                                                        f"@{who} #engineering /rapport coffee pause until 2026-04-01")
        status = await _said(session, out, f"@{who} #engineering /rapport coffee status")
        assert "You are paused until 2026-04-01:" in status, status
        skip = await _said(session, out, f"@{who} #engineering /rapport coffee skip")
        assert "You are paused until 2026-04-01, so you sit the next round out" in skip, skip


async def test_the_check_in_names_the_rounds_day_as_the_schedule_does(sql_store: Any) -> None:
    # Tuesday 08:00 in Tokyo is Monday 23:00 in UTC: the check-in and the status said "round of 02 Mar".
    session, out = await _console(sql_store)
    setup = await _said(session, out, "@carol #engineering /rapport coffee setup weekly tuesday 08:00 tz Asia/Tokyo")
    assert "every Tuesday at 08:00 (Asia/Tokyo)" in setup
    for who in ("alice", "bob", "carol"):
        await _said(session, out, f"@{who} #engineering /rapport coffee join")
    await _said(session, out, "+1d")
    assert "Last round (03 Mar 2026, sent)" in await _said(session, out, "@carol #engineering /rapport coffee status")
    checkin = await _said(session, out, "+5d")
    assert "(#engineering, round of 03 Mar)" in checkin and "02 Mar" not in checkin, checkin


async def test_an_introduction_asked_for_before_an_erasure_is_not_made_after_it(sql_store: Any) -> None:
    # Alice asked Bob to introduce her to Dave, then erased everything; Bob's button still introduced her and
    # stored an introduction naming her.
    session, out = await _console(sql_store)
    await _bob_knows_alice_and_dave(session, out)
    assert "[DM to @Bob]" in await _said(session, out, "@alice /rapport intro @dave")
    await _said(session, out, "@alice /rapport privacy")
    await _said(session, out, "@alice press 3")
    assert "I erased" in await _said(session, out, "@alice press 1")
    pressed = await _said(session, out, "@bob press 1")
    assert "no longer available" in pressed and "[DM to" not in pressed, pressed
    assert (await sql_store.coffee.export_member("console", "alice"))["introductions"] == []


async def test_the_channel_is_not_promised_a_time_for_a_group_that_got_none(sql_store: Any) -> None:
    # Bob (New York) and Dave (Kolkata) share no working hours: their introduction says so, and the channel
    # announcement said every group had "a time that suits everyone, a calendar invite".
    session, out = await _console(sql_store)
    await _weekly_with(session, out, "bob", "dave")
    said = await _said(session, out, "+1d")
    assert "I found no time inside everyone's working hours" in said and "agree a time" in said
    assert "a time that suits everyone, a calendar invite" not in said, said
    assert "saying who is in it and a few questions to start; working hours do not meet" in said
    # A round where one group got a time and the other did not.
    from datetime import UTC, datetime

    from bot.coffee.rounds import announcement
    from bot.domain.coffee import GroupRecord, RoundRecord, Seat

    due = datetime(2026, 3, 3, 9, tzinfo=UTC)
    groups = (GroupRecord("console", "engineering", due, 0, (Seat("alice"), Seat("carol")), suggested_at=due),
              GroupRecord("console", "engineering", due, 1, (Seat("bob"), Seat("dave"))))
    mixed = announcement(RoundRecord("console", "engineering", due, "sent", groups)).text
    assert "a time that suits everyone with a calendar invite where their working hours meet, and" in mixed


async def test_someone_left_out_is_not_promised_a_place_next_round(sql_store: Any) -> None:
    # Alice avoids Bob and Carol: no round can place her, yet each announcement said "you are first in line".
    session, out = await _console(sql_store)
    await _weekly_with(session, out, "alice", "bob", "carol")
    for other in ("bob", "carol"):
        await _said(session, out, f"@alice /rapport coffee avoid @{other}")
    for _ in range(2):
        said = await _said(session, out, "+7d")
        assert "No group this time" in said and "- @Alice: everyone else is already grouped" in said, said
        assert "first in line" not in said
