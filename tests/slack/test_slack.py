"""The Slack adapter end to end: signed requests in, Web API calls out, the real core and SQL store between."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import func, select, text

from adapters.slack import blocks, listeners
from adapters.slack.app import BUSY
from adapters.slack.blocks import MAX_BLOCKS, action_of, home, message
from bot.commands import Args, Context
from bot.events import WORKSPACE_ADMIN
from bot.replies import Attachment, Button, Form, FormField, Reply, Section
from storage.models import MessageRow, QuestionRow
from tests.outage import database_down
from tests.slack.conftest import Slack, sign
from tests.slack.fake_slack import BOT_USER, RESPONSE_URL, block_problems

T1, T2 = "T0ALPHA", "T0BETA"
ANN, BOB = "U0ANN", "U0BOB"


async def rows(slack: Slack, table: type | str, **where: str) -> int:
    async with slack.core.store.engine.connect() as connection:  # type: ignore[attr-defined]
        if isinstance(table, str):
            clause = " AND ".join(f"{k} = :{k}" for k in where) or "1=1"
            return (await connection.execute(text(f"SELECT count(*) FROM {table} WHERE {clause}"), where)).scalar_one()
        query = select(func.count()).select_from(table)
        for key, value in where.items():
            query = query.where(getattr(table, key) == value)
        return (await connection.execute(query)).scalar_one()


def button(blocks: list[dict[str, Any]], action: str) -> dict[str, Any]:
    """The button of `blocks` that carries our neutral action id `action`."""
    return next(e for b in blocks if b["type"] == "actions" for e in b["elements"]
                if action_of(e["action_id"]) == action)


async def test_oauth_install_saves_the_installation_and_events_then_flow(slack: Slack) -> None:
    page = await slack.http.get("/slack/install")
    assert page.status == 200
    state = re.search(r"state=([\w-]+)", await page.text())
    assert state, "the install page links to Slack's authorize URL with a state"
    slack.fake.oauth_teams["code-1"] = (T1, "xoxb-new-alpha")

    done = await slack.http.get("/slack/oauth_redirect", params={"code": "code-1", "state": state.group(1)},
                                headers={"Cookie": f"slack-app-oauth-state={state.group(1)}"})

    assert done.status == 200
    assert len(slack.fake.called("oauth.v2.access")) == 1
    assert await rows(slack, "slack_installations", team_id=T1, client_id="1111.2222") == 1
    assert await rows(slack, "slack_bots", team_id=T1) == 1
    assert await rows(slack, "slack_bots", bot_token="xoxb-new-alpha") == 0, "tokens rest sealed, never in clear"
    assert await rows(slack, "slack_oauth_states") == 0, "the state is consumed"
    assert (await slack.say(T1, ANN, "hello there", slack.ts())).status == 200
    await slack.settle()
    assert await rows(slack, MessageRow, workspace=T1) == 1


async def test_oauth_redirect_with_a_forged_state_installs_nothing(slack: Slack) -> None:
    slack.fake.oauth_teams["code-1"] = (T1, "xoxb-new-alpha")
    done = await slack.http.get("/slack/oauth_redirect", params={"code": "code-1", "state": "forged"},
                                headers={"Cookie": "slack-app-oauth-state=forged"})
    assert done.status >= 400
    assert not slack.fake.called("oauth.v2.access")
    assert await rows(slack, "slack_installations") == 0


async def test_a_thread_of_questions_and_answers_makes_peers(slack: Slack) -> None:
    await slack.install(T1)
    root = slack.ts()
    for user, words, ts in [
        (ANN, "How do I run the migrations locally?", root),
        (BOB, "Run rapport db upgrade, it does everything.", slack.ts(60)),
        (BOB, "Did that work for you?", slack.ts(120)),
        (ANN, "Yes, the tables are all there now.", slack.ts(180)),
    ]:
        response = await slack.say(T1, user, words, ts, thread_ts=root if ts != root else None)
        assert response.status == 200
    await slack.settle()
    # Ann's open question (answered) with its asker -> answerer edge to Bob, and Bob's question to Ann.
    assert await rows(slack, QuestionRow, workspace=T1) == 3
    slack.clock.advance(minutes=5)

    answer = await slack.command(T1, ANN, f"with <@{BOB}|bob>")

    assert answer.status == 200
    body = await answer.json()
    assert body["response_type"] == "ephemeral"
    assert body["text"] == f"You and <@{BOB}> are peers."
    assert any("You asked <@U0BOB> 1 question; they answered 1." in b["text"]["text"] for b in body["blocks"])

    me = await (await slack.command(T1, ANN, "me")).json()
    assert me["text"] == "*Your relationships*"
    assert me["blocks"][1] == {"type": "section", "text": {"type": "mrkdwn", "text": "*Peers (1)*"},
                               "fields": [{"type": "mrkdwn", "text": f"<@{BOB}>"}]}


async def test_flat_channel_chat_links_replies_across_batches_not_neighbours(slack: Slack) -> None:
    """Top-level chat goes through the reply ranker on the live path: an answer is linked to its question across
    another conversation, even when the question was stored by an earlier batch, and a neighbour is no contact."""
    await slack.install(T1)
    cid = "U0CID"
    question = slack.ts()
    await slack.say(T1, ANN, f"<@{BOB}> how do I rotate the staging keys?", question)
    await slack.settle()  # the answer arrives in a later batch, linked from the stored snapshot
    await slack.say(T1, cid, "lunch is at noon today, pizza", slack.ts(20))
    await slack.say(T1, BOB, f"<@{ANN}> run ops/rotate.sh with --env staging", slack.ts(40))
    await slack.settle()
    async with slack.core.store.engine.connect() as connection:  # type: ignore[attr-defined]
        answered = (await connection.execute(select(QuestionRow.addressee, QuestionRow.answer_id))).all()
        contacts = {(r.source, r.target, r.kind) for r in await connection.execute(text(
            "SELECT source, target, kind FROM contacts"))}
    assert answered == [(BOB, f"C0GENERAL:{slack.ts(40)}")]
    assert not any(cid in (source, target) for source, target, _ in contacts), "next to someone is not contact"


async def test_message_ids_follow_the_history_importers_scheme(slack: Slack) -> None:
    await slack.install(T1)
    root, reply = slack.ts(), slack.ts(5)
    await slack.say(T1, ANN, "any idea who owns billing?", root, channel="C0DEV")
    await slack.say(T1, BOB, "I do", reply, channel="C0DEV", thread_ts=root)
    await slack.settle()
    async with slack.core.store.engine.connect() as connection:  # type: ignore[attr-defined]
        found = {(r.message_id, r.thread_id) for r in await connection.execute(select(MessageRow))}
    assert found == {(f"C0DEV:{root}", None), (f"C0DEV:{reply}", f"C0DEV:{root}")}


async def test_bots_joins_and_edits_are_not_chat_but_deletions_are_forgotten(slack: Slack) -> None:
    await slack.install(T1)
    ts = slack.ts()
    base = {"type": "message", "channel": "C0GENERAL", "text": "how are you?"}
    await slack.event(T1, {**base, "subtype": "bot_message", "bot_id": "B0OTHER", "ts": slack.ts(1)})
    await slack.event(T1, {**base, "subtype": "channel_join", "user": ANN, "ts": slack.ts(2)})
    await slack.event(T1, {**base, "user": BOB, "bot_id": "B0APP", "ts": slack.ts(3)})
    await slack.say(T1, ANN, "how are you?", ts)
    await slack.event(T1, {"type": "message", "subtype": "message_changed", "channel": "C0GENERAL", "ts": slack.ts(4),
                           "message": {"user": ANN, "text": "edited", "ts": ts}})
    await slack.settle()
    assert await rows(slack, MessageRow, workspace=T1) == 1
    await slack.event(T1, {"type": "message", "subtype": "message_deleted", "channel": "C0GENERAL",
                           "deleted_ts": ts, "ts": slack.ts(5), "previous_message": {"ts": ts, "user": ANN}})
    await slack.settle()
    assert await rows(slack, MessageRow, workspace=T1) == 0
    assert await rows(slack, QuestionRow, workspace=T1) == 0


async def test_slackbot_reminders_are_not_a_person_asking(slack: Slack) -> None:
    """Slackbot posts channel reminders as a user (USLACKBOT, no bot_id) whom users.info calls no bot: answering
    one must not make Slackbot someone's acquaintance (or a coffee partner), as the importer already knows."""
    await slack.install(T1)
    reminder = slack.ts()
    await slack.say(T1, "USLACKBOT", "Reminder: who is updating the release notes?", reminder)
    await slack.say(T1, ANN, "I am", slack.ts(5), thread_ts=reminder)
    await slack.settle()
    assert await rows(slack, MessageRow, workspace=T1, author="USLACKBOT") == 0
    assert [c for c in slack.fake.called("users.info") if c.params["user"] == "USLACKBOT"] == []


async def test_a_thread_parent_deleted_under_its_replies_is_forgotten(slack: Slack) -> None:
    """Deleting a message that has replies leaves a tombstone: Slack sends message_changed, not message_deleted."""
    await slack.install(T1)
    root, reply = slack.ts(), slack.ts(5)
    await slack.say(T1, ANN, "who owns billing?", root)
    await slack.say(T1, BOB, "I do", reply, thread_ts=root)
    await slack.settle()
    assert await rows(slack, QuestionRow, workspace=T1, message_id=f"C0GENERAL:{root}") > 0

    await slack.event(T1, {"type": "message", "subtype": "message_changed", "hidden": True, "channel": "C0GENERAL",
                           "ts": slack.ts(9), "event_ts": slack.ts(9),
                           "message": {"type": "message", "subtype": "tombstone", "text": "This message was deleted.",
                                       "user": "USLACKBOT", "hidden": True, "ts": root, "thread_ts": root,
                                       "reply_count": 1},
                           "previous_message": {"type": "message", "user": ANN, "text": "who owns billing?",
                                                "ts": root, "thread_ts": root, "reply_count": 1}})
    await slack.settle()
    assert await rows(slack, MessageRow, workspace=T1, message_id=f"C0GENERAL:{root}") == 0
    assert await rows(slack, QuestionRow, workspace=T1) == 0


async def test_me_with_no_history_and_an_unknown_subcommand_answer_ephemerally(slack: Slack) -> None:
    await slack.install(T1)
    me = await (await slack.command(T1, ANN, "me")).json()
    assert me == {"response_type": "ephemeral", "text": me["text"], "blocks": [
        {"type": "section", "text": {"type": "mrkdwn", "text": me["text"]}},
        {"type": "actions", "elements": [{
            "type": "button", "action_id": "me:map#0",
            "text": {"type": "plain_text", "text": "See it as a picture", "emoji": True}}]}]}
    assert "has not seen you talk" in me["text"]

    wrong = await (await slack.command(T1, ANN, "frobnicate now")).json()
    assert wrong["response_type"] == "ephemeral"
    assert wrong["text"].startswith("I don't know the command `frobnicate`.")
    assert "Try `/rapport help`" in wrong["text"]


async def test_a_command_while_rapport_is_behind_is_told_to_try_again(slack: Slack) -> None:
    # Slack redelivers an event answered 503, never a slash command: that one would fail as "dispatch_failed".
    await slack.install(T1)
    slack.core.intake.limit = 0  # full: the database away, or a burst
    busy = await slack.command(T1, ANN, "help")
    assert busy.status == 200 and (await busy.json()) == {"response_type": "ephemeral", "text": BUSY}
    assert (await slack.say(T1, BOB, "morning all", slack.ts())).status == 503
    forged = await slack.http.post("/slack/events", data=b"command=%2Frapport&text=help",
                                   headers={"Content-Type": "application/x-www-form-urlencoded",
                                            **sign("command=%2Frapport&text=help", secret="not-the-secret")})
    assert forged.status == 503  # unsigned: told nothing


async def test_a_button_press_or_a_form_while_rapport_is_behind_is_still_handled(slack: Slack) -> None:
    """Slack never redelivers an interaction: a 503 lost the press (or the form's answers) without a word."""
    await slack.install(T1)
    form = Form("profile", "Your profile", (FormField("intro", "About you"),))
    pressed: list[str] = []

    async def wave(ctx: Context, value: str) -> Reply:
        pressed.append(value)
        return Reply(f"waved at <@{value}>")

    async def saved(ctx: Context, values: dict[str, str], flattened: frozenset[str]) -> Reply:
        return Reply(f"Saved {values['intro']!r}.")

    slack.core.router.action("wave")(wave)
    slack.core.router.form("profile")(saved)
    slack.core.intake.limit = 0  # full: the database away, or a burst

    press = await slack.press(T1, ANN, {"action_id": "wave#0", "value": BOB})
    assert press.status == 200
    await slack.settle()
    assert pressed == [BOB] and slack.fake.responses[-1]["text"] == f"waved at <@{BOB}>"

    view = blocks.modal(form, "C0GENERAL")
    submitted = await slack.interaction({
        "type": "view_submission", "team": {"id": T1}, "user": {"id": ANN, "team_id": T1}, "api_app_id": "A0RAPPORT",
        "view": {**view, "id": "V0VIEW", "state": {"values": {"intro": {"value": {"type": "plain_text_input",
                                                                                   "value": "hello"}}}}},
    })
    assert submitted.status == 200
    result = await submitted.json()
    assert result["view"]["blocks"][0]["text"]["text"] == "Saved 'hello'."
    forged = await slack.http.post("/slack/events", data=b"payload=%7B%7D",
                                   headers={"Content-Type": "application/x-www-form-urlencoded",
                                            **sign("payload=%7B%7D", secret="not-the-secret")})
    assert forged.status in (401, 503)  # unsigned: nothing done


async def test_a_deleted_channel_takes_its_messages_with_it(slack: Slack) -> None:
    await slack.install(T1)
    await slack.say(T1, ANN, f"<@{BOB}> is the build green?", slack.ts())
    await slack.say(T1, BOB, "yes", slack.ts(1))
    await slack.say(T1, BOB, "morning", slack.ts(2), channel="C0RANDOM")
    await slack.settle()
    assert len(await slack.core.store.graph.messages_in(T1, "C0GENERAL")) == 2

    assert (await slack.event(T1, {"type": "channel_deleted", "channel": "C0GENERAL"})).status == 200
    await slack.settle()
    assert await slack.core.store.graph.messages_in(T1, "C0GENERAL") == []
    assert len(await slack.core.store.graph.messages_in(T1, "C0RANDOM")) == 1
    assert await rows(slack, QuestionRow, workspace=T1) == 0


async def test_a_link_in_a_command_arrives_as_the_link(slack: Slack) -> None:
    """The manifest asks Slack to escape channels, users and links in /rapport's text: a link comes as
    `<https://...>` (or with `|label`), which the core must see as the link itself to share it."""
    await slack.install(T1)
    await slack.say(T1, BOB, "morning all", slack.ts())
    await slack.settle()
    for link in ("<https://example.com/a>", "<https://example.com/a|example.com/a>"):
        answer = await (await slack.command(T1, ANN, f"share <@{BOB}|bob> {link} worth a read")).json()
        assert answer["text"].startswith(f"Sent https://example.com/a to <@{BOB}>"), answer["text"]
    sent = slack.fake.called("chat.postMessage")
    assert len(sent) == 2 and all("\nhttps://example.com/a\n" in c.params["text"] for c in sent)


async def test_what_slack_escapes_in_a_command_reaches_the_core_as_typed(slack: Slack) -> None:
    """Slack sends `&`, `<` and `>` in a command's text as HTML entities: a team "R&D" must not be stored (and
    shown in the console, the map and the insights report) as "R&amp;D"."""
    await slack.install(T1)
    heard: list[str] = []

    async def echo(ctx: Context, args: Args) -> Reply:
        heard.append(args.rest())
        return Reply("ok")

    slack.core.router.command("echo", "echo TEXT", "what the core heard")(echo)
    await slack.command(T1, ANN, "echo team R&amp;D &lt;3 <https://example.com/?a=1&amp;b=2>")
    assert heard == ["team R&D <3 https://example.com/?a=1&b=2"]


async def test_status_says_what_rapport_cannot_see_on_slack(slack: Slack) -> None:
    """`/rapport status` promises what Rapport cannot see; the core leaves that to each platform, as Discord says
    its own."""
    await slack.install(T1)
    status = await (await slack.command(T1, ANN, "status")).json()
    shown = "\n".join(b["text"]["text"] for b in status["blocks"])
    assert "*What Rapport sees on Slack*" in shown and "Not private channels, group DMs or direct messages" in shown


async def test_a_button_press_reaches_the_core_with_the_admin_role(slack: Slack) -> None:
    await slack.install(T1)
    slack.fake.admins.add(ANN)
    pressed: list[tuple[str, str, frozenset[str]]] = []

    async def wave(ctx: Context, value: str) -> Reply:
        pressed.append((ctx.user, value, ctx.roles))
        return Reply(f"<@{ctx.user}> waved at <@{value}>", ephemeral=False)

    slack.core.router.action("wave")(wave)
    started = time.monotonic()
    response = await slack.press(T1, ANN, {"action_id": "wave#1", "value": BOB})
    assert response.status == 200 and time.monotonic() - started < 3
    await slack.settle()

    assert pressed == [(ANN, BOB, frozenset({WORKSPACE_ADMIN}))]
    assert slack.fake.responses[-1]["response_type"] == "in_channel"
    assert slack.fake.responses[-1]["text"] == f"<@{ANN}> waved at <@{BOB}>"
    assert slack.fake.responses[-1]["replace_original"] is False


async def test_buttons_render_as_actions_and_forms_as_modals(slack: Slack) -> None:
    await slack.install(T1)
    form = Form("profile", "Your profile", (FormField("intro", "About you", multiline=True, hint="two lines"),))

    async def buttons(ctx: Context, args: object) -> Reply:
        return Reply("Pick one", buttons=(Button("Yes", "choose", "yes", "primary"), Button("No", "choose", "no")))

    async def open_form(ctx: Context, value: str) -> Reply:
        return Reply("Tell us", form=form)

    async def saved(ctx: Context, values: dict[str, str], flattened: frozenset[str]) -> Reply:
        return Reply(f"Saved {values['intro']!r}, plain: {sorted(flattened)}.")

    slack.core.router.command("pick", "pick", "test")(buttons)  # type: ignore[arg-type]
    slack.core.router.action("choose")(open_form)
    slack.core.router.form("profile")(saved)

    picked = await (await slack.command(T1, ANN, "pick")).json()
    actions = picked["blocks"][-1]
    assert actions["type"] == "actions"
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [("choose#0", "yes"), ("choose#1", "no")]
    assert action_of(actions["elements"][1]["action_id"]) == "choose"

    await slack.press(T1, ANN, actions["elements"][0])
    await slack.settle()
    (opened,) = slack.fake.called("views.open")
    view = json.loads(opened.params["view"]) if isinstance(opened.params["view"], str) else opened.params["view"]
    assert view["type"] == "modal" and view["blocks"][0]["block_id"] == "intro"

    submitted = await slack.interaction({
        "type": "view_submission", "team": {"id": T1}, "user": {"id": ANN, "team_id": T1}, "api_app_id": "A0RAPPORT",
        "view": {**view, "id": "V0VIEW", "state": {"values": {"intro": {"value": {"type": "plain_text_input",
                                                                                   "value": "hi <!here> <https://a.example|docs>"}}}}},
    })
    result = await submitted.json()
    assert result["response_action"] == "update"
    # Slack's markup reaches the core as the plain text it reads as, and the core is told which field held it.
    assert result["view"]["blocks"][0]["text"]["text"] == "Saved 'hi @here docs (https://a.example)', plain: ['intro']."


async def test_a_next_page_pressed_under_a_saved_form_opens_in_the_same_modal(slack: Slack) -> None:
    """The profile's "more" page is offered under page one's answer, inside the modal: Slack opens no modal over
    another with views.open, so the next page replaces the answer (views.update) and keeps the form's channel."""
    await slack.install(T1)
    first, second = (Form(page, f"Profile {page}", (FormField("x", "X"),)) for page in ("p1", "p2"))
    seen: list[str] = []

    async def open_first(ctx: Context, args: object) -> Reply:
        return Reply("Tell us", form=first)

    async def saved(ctx: Context, values: dict[str, str], flattened: frozenset[str]) -> Reply:
        return Reply("Saved.", buttons=(Button("More", "more", "p2"),))

    async def more(ctx: Context, value: str) -> Reply:
        seen.append(ctx.channel)
        return Reply("More", form=second)

    slack.core.router.command("prof", "prof", "test")(open_first)  # type: ignore[arg-type]
    slack.core.router.form("p1")(saved)
    slack.core.router.action("more")(more)
    await slack.command(T1, ANN, "prof", channel="C0TEAM")
    (opened,) = slack.fake.called("views.open")
    result = await (await slack.interaction({
        "type": "view_submission", "team": {"id": T1}, "user": {"id": ANN, "team_id": T1}, "api_app_id": "A0RAPPORT",
        "view": {**opened.params["view"], "id": "V0VIEW", "state": {"values": {}}},
    })).json()
    answer = result["view"]
    button = answer["blocks"][-1]["elements"][0]
    await slack.interaction({
        "type": "block_actions", "team": {"id": T1, "domain": "t"}, "user": {"id": ANN, "team_id": T1},
        "api_app_id": "A0RAPPORT", "trigger_id": "1337.43.abcd", "container": {"type": "view", "view_id": "V0VIEW"},
        "view": {**answer, "id": "V0VIEW", "hash": "1.abc"},
        "actions": [{**button, "type": "button", "block_id": "b1", "action_ts": "1.3"}],
    })
    await slack.settle()
    assert len(slack.fake.called("views.open")) == 1
    (updated,) = slack.fake.called("views.update")
    assert updated.params["view_id"] == "V0VIEW" and updated.params["view"]["blocks"][0]["block_id"] == "x"
    assert seen == ["C0TEAM"]  # the channel the form was opened from, not ""


async def test_app_home_shows_the_members_relationships(slack: Slack) -> None:
    await slack.install(T1)
    response = await slack.event(T1, {"type": "app_home_opened", "user": ANN, "channel": "D0ANN", "tab": "home",
                                      "event_ts": slack.ts()})
    assert response.status == 200
    await slack.settle()
    (published,) = slack.fake.called("views.publish")
    assert published.params["user_id"] == ANN
    view = published.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    shown = json.dumps(view["blocks"])
    for part in ("Your relationships", "has not seen you talk", "Your profile", "Virtual coffee", "Your nudges"):
        assert part in shown, part
    see_it = button(view["blocks"], "me:map")

    await slack.press(T1, ANN, see_it)
    await slack.settle()

    (completed,) = slack.fake.called("files.completeUploadExternal")
    assert completed.params["channel_id"] == "D0ANN"
    (uploaded,) = slack.fake.uploads
    assert uploaded.startswith(b"\x89PNG")


async def test_a_retry_storm_is_counted_once(slack: Slack) -> None:
    await slack.install(T1)
    body = slack.event_body(T1, {"type": "message", "channel": "C0GENERAL", "user": ANN, "ts": slack.ts(),
                                 "text": "can you review my PR?"}, event_id="Ev0STORM")
    retries = [{}, *({"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"} for n in (1, 2, 3))]

    responses = await asyncio.gather(*(slack.post(body, "application/json", h) for h in retries))
    await slack.settle()

    assert [r.status for r in responses] == [200] * 4
    assert await rows(slack, MessageRow, workspace=T1) == 1
    assert await rows(slack, QuestionRow, workspace=T1) == 1


async def test_a_burst_of_questions_and_replies_delivered_at_once_all_link(slack: Slack) -> None:
    """Slack delivers over concurrent requests and promises no order: here each reply is even sent first."""
    await slack.install(T1)
    requests = []
    for i in range(3):
        root = slack.ts(10 * i)
        requests += [slack.say(T1, BOB, "on it, looks fine", slack.ts(10 * i + 1), thread_ts=root),
                     slack.say(T1, ANN, f"<@{BOB}> can you check build {i}?", root)]
    assert [r.status for r in await asyncio.gather(*requests)] == [200] * 6
    await slack.settle()
    async with slack.core.store.engine.connect() as connection:  # type: ignore[attr-defined]
        answers = (await connection.execute(select(QuestionRow.answer_id).where(QuestionRow.workspace == T1))).all()
    assert len(answers) == 3 and all(answer for (answer,) in answers)


async def test_a_malformed_event_in_a_burst_costs_only_itself(slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    await slack.install(T1)
    requests = [slack.say(T1, ANN, f"message {i} of the burst", slack.ts(i)) for i in range(20)]
    requests.insert(7, slack.event(T1, {"type": "message", "channel": "C0GENERAL", "user": BOB, "ts": "abc",
                                        "text": "zebra-poison"}, event_id="Ev0POISON"))
    with caplog.at_level(logging.INFO):
        assert [r.status for r in await asyncio.gather(*requests)] == [200] * 21
        await slack.settle()
    assert await rows(slack, MessageRow, workspace=T1) == 20
    assert "event=Ev0POISON channel=C0GENERAL message=abc" in caplog.text and "zebra-poison" not in caplog.text


@pytest.mark.parametrize("problem", ["wrong secret", "stale timestamp", "unsigned"])
async def test_a_bad_signature_is_refused_and_changes_nothing(slack: Slack, problem: str) -> None:
    await slack.install(T1)
    calls = len(slack.fake.calls)
    body = slack.event_body(T1, {"type": "message", "channel": "C0GENERAL", "user": ANN, "ts": slack.ts(),
                                 "text": "who knows?"})
    headers = {
        "wrong secret": sign(body, secret="not-the-secret"),
        "stale timestamp": sign(body, timestamp=int(time.time()) - 6 * 60),
        "unsigned": {},
    }[problem]
    response = await slack.http.post("/slack/events", data=body.encode(),
                                     headers={"Content-Type": "application/json", **headers})
    await slack.settle()
    assert response.status == 401
    assert await rows(slack, MessageRow) == 0
    assert len(slack.fake.calls) == calls


async def test_server_errors_are_retried_with_backoff_and_the_message_sent_once(slack: Slack) -> None:
    await slack.install(T1)
    slack.fake.server_errors["chat.postMessage"] = 2

    delivered = await slack.core.outbound.send_channel(T1, "C0GENERAL", Reply("Coffee pairs are out!"))

    assert delivered
    first, second, third = slack.fake.called("chat.postMessage")
    # Backing off: at least 0.5 s, then 1 s (slack_sdk adds up to 1 s of random jitter to each, so only the lower
    # bounds are certain).
    assert second.at - first.at >= 0.5 and third.at - second.at >= 1.0
    assert slack.fake.server_errors["chat.postMessage"] == 0


async def test_a_429_is_waited_out_and_the_message_sent_once(slack: Slack) -> None:
    await slack.install(T1)
    slack.fake.rate_limited["chat.postMessage"] = 1

    delivered = await slack.core.outbound.send_channel(T1, "C0GENERAL", Reply("Coffee pairs are out!"))

    assert delivered
    first, second = slack.fake.called("chat.postMessage")
    assert second.at - first.at >= slack.fake.retry_after
    assert second.params["channel"] == "C0GENERAL"
    assert slack.fake.rate_limited["chat.postMessage"] == 0


async def test_an_answer_through_response_url_outlasts_a_500_and_a_429(
        slack: Slack, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command the core answers after the ack is answered through response_url: Bolt's respond() retries only
    dropped connections there, so one 500 or 429 lost the answer without a word."""
    await slack.install(T1)
    monkeypatch.setattr(listeners, "ANSWER_WITHIN", 0.05)
    slack.fake.latency["users.info"] = 0.3
    slack.fake.server_errors[RESPONSE_URL] = 1
    slack.fake.rate_limited[RESPONSE_URL] = 1

    held = await (await slack.command(T1, ANN, "status")).json()
    await slack.settle()

    assert held["text"] == "One moment…"
    (answer,) = slack.fake.responses
    assert answer["response_type"] == "ephemeral" and answer["text"] != held["text"]
    assert slack.fake.server_errors[RESPONSE_URL] == slack.fake.rate_limited[RESPONSE_URL] == 0


async def test_direct_messages_open_a_conversation_first(slack: Slack) -> None:
    await slack.install(T1)
    assert await slack.core.outbound.send_direct(T1, BOB, Reply("Your pair this week: <@U0ANN>"))
    (opened,) = slack.fake.called("conversations.open")
    (posted,) = slack.fake.called("chat.postMessage")
    assert opened.params["users"] == BOB and posted.params["channel"] == "D0BOB"
    assert opened.token == posted.token == f"xoxb-{T1}"


@pytest.mark.parametrize("event", [
    {"type": "app_uninstalled"},
    {"type": "tokens_revoked", "tokens": {"bot": ["UBOT"]}},
])
async def test_uninstall_or_revocation_deletes_the_installation_and_stops_calls(slack: Slack, event: dict) -> None:
    await slack.install(T1)
    await slack.install(T2)
    response = await slack.event(T1, {**event, "event_ts": slack.ts()})
    await slack.settle()
    assert response.status == 200
    assert await rows(slack, "slack_bots", team_id=T1) == 0
    assert await rows(slack, "slack_bots", team_id=T2) == 1
    calls = len(slack.fake.calls)

    assert not await slack.core.outbound.send_channel(T1, "C0GENERAL", Reply("hello?"))
    await slack.say(T1, ANN, "anyone here?", slack.ts())
    await slack.settle()

    assert len(slack.fake.calls) == calls, "no Web API call for a removed workspace"
    assert await rows(slack, MessageRow, workspace=T1) == 0
    assert await slack.core.outbound.send_channel(T2, "C0GENERAL", Reply("hello")), "other workspaces unaffected"


async def test_message_text_never_reaches_the_logs(slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    await slack.install(T1)
    caplog.set_level(logging.DEBUG)
    await slack.say(T1, ANN, "what is the secret plan zebra?", slack.ts())
    await slack.command(T1, ANN, "with <@U0NOBODY>")
    await slack.settle()
    assert await rows(slack, MessageRow) == 1
    assert "zebra" not in caplog.text


async def test_a_file_reply_is_uploaded_to_the_members_direct_messages(slack: Slack) -> None:
    await slack.install(T1)
    await slack.say(T1, ANN, "who runs the release today?", slack.ts())
    await slack.settle()
    menu = await (await slack.command(T1, ANN, "privacy")).json()
    export = button(menu["blocks"], "privacy:export")

    await slack.press(T1, ANN, export)
    await slack.settle()

    (opened,) = slack.fake.called("conversations.open")
    (completed,) = slack.fake.called("files.completeUploadExternal")
    assert opened.params["users"] == ANN and completed.params["channel_id"] == "D0ANN"
    (uploaded,) = slack.fake.uploads
    assert json.loads(uploaded)["user"] == ANN
    assert b"who runs the release" not in uploaded, "no message text at rest, so none in an export"


async def test_joining_a_channel_announces_what_rapport_records_once(slack: Slack) -> None:
    await slack.install(T1)
    joined = {"type": "member_joined_channel", "user": "UBOT", "channel": "C0NEW", "channel_type": "C", "team": T1}
    await slack.event(T1, joined)
    await slack.event(T1, {**joined, "user": ANN})
    await slack.event(T1, joined)  # removed and added again: said once
    await slack.settle()
    (notice,) = slack.fake.called("chat.postMessage")
    assert notice.params["channel"] == "C0NEW"


async def test_uninstall_erases_the_workspaces_data_and_no_other(slack: Slack) -> None:
    await slack.install(T1)
    await slack.install(T2)
    for team in (T1, T2):
        await slack.say(team, ANN, "How do I get started?", slack.ts())
        await slack.say(team, BOB, "Read the README first.", slack.ts(30))
    await slack.settle()
    assert await rows(slack, MessageRow, workspace=T1) == 2

    await slack.event(T1, {"type": "app_uninstalled", "event_ts": slack.ts()})
    for _ in range(100):  # Bolt runs the listener just after the ack; the erase is queued from there
        await slack.settle()
        if await rows(slack, MessageRow, workspace=T1) == 0:
            break
        await asyncio.sleep(0.05)

    async with slack.core.store.engine.connect() as connection:  # type: ignore[attr-defined]
        for table in ("messages", "questions", "contacts", "members"):
            left = (await connection.execute(text(f"SELECT count(*) FROM {table} WHERE workspace = :w"),
                                             {"w": T1})).scalar_one()
            assert left == 0, table
    assert await rows(slack, MessageRow, workspace=T2) == 2


async def test_permalinks_point_at_a_message_without_quoting_it(slack: Slack) -> None:
    await slack.install(T1)
    link = await slack.adapter.outbound.permalink(T1, "C0GENERAL", "C0GENERAL:1700000000.000100")
    assert link == "https://t0alpha.slack.com/archives/C0GENERAL/p1700000000000100"
    [call] = slack.fake.called("chat.getPermalink")
    assert call.params["message_ts"] == "1700000000.000100"


async def test_coffee_setup_is_for_the_channels_creator_or_an_admin(slack: Slack) -> None:
    await slack.install(T1)
    slack.fake.channel_creators["C0GENERAL"] = BOB
    setup = "coffee setup weekly tuesday 10:00"

    refused = await (await slack.command(T1, ANN, setup)).json()
    assert "Sorry, only a workspace admin or someone who manages this channel" in refused["text"]
    done = await (await slack.command(T1, BOB, setup)).json()
    assert "Sorry" not in done["text"] and "Tuesday" in done["text"]


async def test_coffee_permissions_are_checked_on_the_channel_named(slack: Slack) -> None:
    """Bob created C0BOB, not C0TEAM: typing in his own channel gives him no say over C0TEAM's coffee."""
    await slack.install(T1)
    slack.fake.channel_creators.update({"C0BOB": BOB, "C0TEAM": ANN, "C0T2": BOB})
    slack.fake.channel_teams["C0T2"] = T2
    assert "Tuesday" in (await (await slack.command(T1, ANN, "coffee setup weekly tuesday 10:00",
                                                    channel="C0TEAM")).json())["text"]

    async def bob(words: str) -> str:
        return str((await (await slack.command(T1, BOB, words, channel="C0BOB")).json())["text"])

    refused = "Sorry, only a workspace admin or someone who manages <#C0TEAM> can do that."
    assert await bob("coffee stop <#C0TEAM|team>") == refused
    assert await bob("coffee setup <#C0TEAM|team> monthly friday 16:00") == refused
    assert "Last round" not in await bob("coffee status <#C0TEAM|team>")
    assert "Tuesday" in await bob("coffee status <#C0TEAM|team>")
    # A channel of another workspace is managed by nobody here, whoever created it there.
    assert "manages <#C0T2>" in await bob("coffee setup <#C0T2> weekly monday 09:00")
    # Ann created C0TEAM: she manages it from any channel.
    ann = await (await slack.command(T1, ANN, "coffee stop <#C0TEAM>", channel="C0BOB")).json()
    assert "is stopped" in ann["text"]


async def test_a_member_a_round_could_not_dm_is_reported_to_who_set_coffee_up(slack: Slack) -> None:
    """Ann set coffee up in C0TEAM. Slack refuses one member's pairing DM (their account was deactivated): Ann
    gets one DM naming that member; a round where every DM goes out sends her none. (500s are not a refusal: the
    round is resumed until Slack answers, tests/slack/test_coffee_groups.py.)"""
    await slack.install(T1)
    slack.fake.refuse_group_open = "missing_scope"  # installed before Rapport asked for mpim:write: DMs only
    slack.fake.channel_creators["C0TEAM"] = ANN
    setup = await slack.command(T1, ANN, "coffee setup weekly tuesday 10:00", channel="C0TEAM")
    assert "Tuesday" in (await setup.json())["text"]
    members = ["U0CAROL", "U0DAVE", "U0ERIN", "U0FRED"]
    for user in members:
        assert "You are in" in (await (await slack.command(T1, user, "coffee join", channel="C0TEAM")).json())["text"]

    async def round_dms(disabled: set[str]) -> list[Any]:
        settings = await slack.core.store.coffee.channel(T1, "C0TEAM")
        slack.clock.current = settings.next_run_at
        slack.fake.calls.clear()
        slack.fake.disabled_users = disabled
        await slack.core.ticker.tick()
        return [c for c in slack.fake.called("chat.postMessage") if c.params["channel"].startswith("D")]

    failed = "U0DAVE"
    dms = await round_dms({failed})
    to_ann = [c for c in dms if c.params["channel"] == "D0ANN"]
    assert len(to_ann) == 1
    assert f"<@{failed}>" in to_ann[0].params["text"]
    assert not any(f"<@{u}>" in to_ann[0].params["text"] for u in members if u != failed)
    assert {c.params["channel"] for c in dms if not c.refused} == {"D" + u[1:] for u in members if u != failed} | {
        "D0ANN"}

    dms = await round_dms(set())
    assert {c.params["channel"] for c in dms} == {"D" + u[1:] for u in members}  # all reached: nothing for Ann


async def test_enterprise_grid_workspaces_get_their_messages(slack: Slack) -> None:
    """A workspace in a Grid org is found with its org's id: DMs, nudges and rounds all go out this way."""
    store = slack.adapter.app.installation_store
    assert store is not None
    grid_token, org_token = slack.fake.install(T1, "xoxb-grid"), slack.fake.install(T2, "xoxb-org")
    common = {"app_id": "A0RAPPORT", "bot_id": "B0BOT", "bot_user_id": BOT_USER, "bot_scopes": "chat:write",
              "user_id": "U0INSTALLER"}
    # Installed into one workspace of org E0GRID; and org-wide into E0ORG, which has no row per workspace.
    await store.async_save(Installation(enterprise_id="E0GRID", team_id=T1, bot_token=grid_token,
                                        is_enterprise_install=False, **common))
    await store.async_save(Installation(enterprise_id="E0ORG", team_id=None, bot_token=org_token,
                                        is_enterprise_install=True, **common))

    assert await slack.core.outbound.send_direct(T1, ANN, Reply("hello from a round"))
    assert await slack.core.outbound.send_channel(T1, "C0GENERAL", Reply("a nudge"))
    assert {c.token for c in slack.fake.called("chat.postMessage")} == {grid_token}

    # The org-wide install is found once a request from the workspace says which org it is in.
    ts = slack.ts()
    body = json.dumps({
        "token": "legacy", "enterprise_id": "E0ORG", "team_id": T2, "api_app_id": "A0RAPPORT",
        "type": "event_callback", "event_id": "Ev0GRID", "event_time": int(time.time()),
        "event": {"type": "message", "channel": "C0ORG", "user": BOB, "text": "who owns billing?", "ts": ts,
                  "channel_type": "channel", "event_ts": ts},
        "authorizations": [{"enterprise_id": "E0ORG", "team_id": None, "user_id": BOT_USER, "is_bot": True,
                            "is_enterprise_install": True}],
    })
    assert (await slack.post(body, "application/json")).status == 200
    await slack.settle()
    assert await rows(slack, MessageRow, workspace=T2) == 1
    assert await slack.core.outbound.send_direct(T2, BOB, Reply("your coffee group"))
    assert [c.token for c in slack.fake.called("conversations.open")][-1] == org_token


SENTINEL = "zebra-quokka-4417"  # message text: it may reach the core, never a log line


async def post_forged(slack: Slack, text: str) -> int:
    """A message event signed with the wrong secret, as an attacker would send it; the HTTP status Bolt answers."""
    body = slack.event_body(T1, {"type": "message", "channel": "C0GENERAL", "user": ANN, "ts": slack.ts(1),
                                 "text": text})
    forged = await slack.http.post("/slack/events", data=body.encode(), headers={
        "Content-Type": "application/json", **sign(body, secret="not-the-signing-secret")})
    return forged.status


async def test_no_request_body_reaches_the_logs(slack: Slack, every_log_line: Callable[[], list[str]]) -> None:
    await slack.install(T1)
    assert (await slack.say(T1, BOB, "morning all", slack.ts())).status == 200
    assert (await slack.say(T1, ANN, f"did you see {SENTINEL}?", slack.ts(1))).status == 200
    await slack.settle()
    shared = await slack.command(T1, ANN, f"share <@{BOB}> https://example.com/a note {SENTINEL}")
    assert shared.status == 200
    assert await post_forged(slack, f"mistyped secret {SENTINEL}") == 401
    await slack.settle()
    # The note went through slack_sdk to Slack (whose DEBUG lines quote request bodies), never to the log.
    assert any(SENTINEL in json.dumps(c.params) for c in slack.fake.called("chat.postMessage"))

    lines = every_log_line()
    assert [line for line in lines if SENTINEL in line] == []
    [refused] = [line for line in lines if "Invalid request signature" in line]  # the line stays, its body goes
    assert "payload withheld" in refused and "mistyped" not in refused


async def test_junk_gets_a_4xx_not_a_traceback(slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    for body, kind in (("{not json", "application/json"), ("{not json", "application/x-www-form-urlencoded"),
                       ("payload=%7Bnot", "application/x-www-form-urlencoded")):
        unsigned = await slack.http.post("/slack/events", data=body.encode(), headers={"Content-Type": kind})
        assert 400 <= unsigned.status < 500, (body, kind, unsigned.status)
        assert 400 <= (await slack.post(body, kind)).status < 500  # signed junk too
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_my_map_arrives_as_a_picture_in_the_members_direct_messages(slack: Slack) -> None:
    await slack.install(T1)
    await slack.say(T1, ANN, "who runs the release today?", slack.ts())
    await slack.settle()
    listing = await (await slack.command(T1, ANN, "me")).json()
    see_it = button(listing["blocks"], "me:map")

    await slack.press(T1, ANN, see_it)
    await slack.settle()

    (completed,) = slack.fake.called("files.completeUploadExternal")
    assert completed.params["channel_id"] == "D0ANN"
    assert "rapport-map-" in json.dumps(completed.params)
    (uploaded,) = slack.fake.uploads
    assert uploaded.startswith(b"\x89PNG")


def test_a_long_page_is_cut_but_keeps_its_buttons() -> None:
    """150 ties fill more blocks than Slack allows; the cut must not take the map button with it."""
    page = Reply("*Rapport: your page*", tuple(Section(f"part {i}", ("a line",)) for i in range(150)),
                 buttons=(Button("See my map", "me:map"),))
    view = home(page)
    assert len(view["blocks"]) <= MAX_BLOCKS
    assert view["blocks"][-2]["type"] == "actions" and view["blocks"][-3]["elements"][0]["text"] == "…and more"


def test_a_long_section_is_split_between_lines_not_cut() -> None:
    """A coffee status of 100 groups passes Slack's 3000 characters a block: every group is shown, none cut
    in half, as Discord shows them in further fields."""
    lines = tuple(f"<@U0{n:04d}A> and <@U0{n:04d}B>: shared working hours and interests" for n in range(100))
    page = message(Reply("Coffee in #team", (Section("Last round", lines),)))
    assert block_problems(page["blocks"]) == []
    shown = "\n".join(b["text"]["text"] for b in page["blocks"][1:])
    assert shown.split("\n") == ["*Last round*", *lines]


async def test_forms_open_within_the_request_before_it_is_answered(slack: Slack) -> None:
    """views.open must use the trigger_id within its 3 seconds: it is called before the HTTP response goes back,
    not from the work queued after the ack. views.open is made slow, so a call made after the ack is answered after
    the response."""
    await slack.install(T1)
    slack.fake.latency["views.open"] = 0.3
    form = Form("profile", "Your profile", (FormField("intro", "About you"),))

    async def open_form(ctx: Context, value: str) -> Reply:
        return Reply("Tell us", form=form)

    slack.core.router.action("edit")(open_form)

    for request in (lambda: slack.command(T1, ANN, "profile"),
                    lambda: slack.press(T1, ANN, {"action_id": "edit#0", "value": "x"})):
        before = len(slack.fake.called("views.open"))
        response = await request()
        responded = time.monotonic()
        assert response.status == 200
        await slack.settle()
        (opened,) = slack.fake.called("views.open")[before:]
        assert opened.params["trigger_id"] == "1337.42.abcd"
        assert 0 < opened.answered < responded


async def test_a_slow_command_still_delivers_its_file_and_opens_its_form(
        slack: Slack, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the core misses the ack, the answer comes after it: a file still reaches the member's DMs and a form
    still opens, as they do when the core is quick (a map drawn on a busy machine takes more than 2 s)."""
    await slack.install(T1)
    monkeypatch.setattr(listeners, "ANSWER_WITHIN", 0.05)
    slack.fake.latency["users.info"] = 0.3  # the roles lookup, before the core answers

    async def picture(ctx: Context, args: Args) -> Reply:
        return Reply("Your map", attachment=Attachment("rapport-map.png", b"\x89PNG map"))

    async def questions(ctx: Context, args: Args) -> Reply:
        return Reply("Tell us", form=Form("profile", "Your profile", (FormField("intro", "About you"),)))

    slack.core.router.command("picture", "picture", "a file")(picture)
    slack.core.router.command("questions", "questions", "a form")(questions)

    held = await (await slack.command(T1, ANN, "picture")).json()
    await slack.settle()
    assert held["text"] == "One moment…"
    (completed,) = slack.fake.called("files.completeUploadExternal")
    assert completed.params["channel_id"] == "D0ANN"
    assert slack.fake.uploads == [b"\x89PNG map"]

    # ANN's roles are cached by now: another member, so that the core is slow again
    await (await slack.command(T1, BOB, "questions")).json()
    await slack.settle()
    (opened,) = slack.fake.called("views.open")
    assert "rapport_form" in json.dumps(opened.params["view"])


async def test_json_logs_are_one_object_a_line_with_no_text_in_them(
        slack: Slack, every_log_line: Callable[[], list[str]]) -> None:
    """RAPPORT_LOG_FORMAT=json: the same traffic as above, logged as JSON lines; no field holds message text,
    and a library's `extra` attributes (where a payload could hide) are not written."""
    from bot import logs

    formatters = {handler: handler.formatter for handler in logging.root.handlers}
    logs.configure("DEBUG", format="json")
    try:
        await slack.install(T1)
        assert (await slack.say(T1, ANN, f"did you see {SENTINEL}?", slack.ts())).status == 200
        await slack.settle()
        logging.getLogger("slack_sdk.web").info("sent", extra={"body": f"chat.postMessage {SENTINEL}"})
        assert await post_forged(slack, f"mistyped secret {SENTINEL}") == 401
        await slack.settle()
        lines = every_log_line()
    finally:
        for handler, formatter in formatters.items():
            handler.setFormatter(formatter)
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert records and all(set(r) == {"time", "level", "logger", "message"} for r in records)
    assert [line for line in lines if SENTINEL in line] == []
    [refused] = [r for r in records if "Invalid request signature" in r["message"]]
    assert refused["level"] == "INFO" and refused["logger"].startswith("slack_bolt")
    assert "payload withheld" in refused["message"]


def test_an_unknown_log_format_is_refused_by_name() -> None:
    from bot import logs

    with pytest.raises(ValueError, match="RAPPORT_LOG_FORMAT"):
        logs.configure("INFO", format="xml")


async def test_erasing_the_installer_blanks_their_id_and_keeps_the_installation(slack: Slack) -> None:
    from bot.privacy.privacy import erase, export

    await slack.install(T2)
    now = slack.core.clock.now()
    assert len((await export(slack.core.store, T2, "U0INSTALLER", now))["installed_rapport_at"]) == 1
    assert (await export(slack.core.store, T2, ANN, now))["installed_rapport_at"] == []

    await erase(slack.core.store, T2, "U0INSTALLER", now)

    assert await rows(slack, "slack_installations", team_id=T2) == 1
    assert await rows(slack, "slack_installations", user_id="U0INSTALLER") == 0
    assert (await export(slack.core.store, T2, "U0INSTALLER", now))["installed_rapport_at"] == []
    assert await slack.core.outbound.send_channel(T2, "C0GENERAL", Reply("still here")), "the bot token still works"


async def test_a_form_slack_will_not_open_is_said_within_the_ack(slack: Slack) -> None:
    """views.open answering 500s (or 429s past the trigger_id's 3 seconds): the retries outlasted the ack, Slack
    showed the member a bare "operation_timeout", and the form was never opened nor anything said."""
    await slack.install(T1)
    form = Form("profile", "Your profile", (FormField("intro", "About you"),))

    async def open_form(ctx: Context, value: str) -> Reply:
        return Reply("Tell us", form=form)

    slack.core.router.action("edit")(open_form)
    slack.fake.retry_after = 1
    for broken in ("server_errors", "rate_limited"):
        getattr(slack.fake, broken)["views.open"] = 10
        started = time.monotonic()
        command = await slack.command(T1, ANN, "profile")
        assert command.status == 200 and time.monotonic() - started < 3, broken
        assert (await command.json()) == {"response_type": "ephemeral", "text": listeners.FORM_FAILED.text}

        started = time.monotonic()
        press = await slack.press(T1, ANN, {"action_id": "edit#0", "value": "x"})
        assert press.status == 200 and time.monotonic() - started < 3, broken
        await slack.settle()
        assert slack.fake.responses[-1]["text"] == listeners.FORM_FAILED.text
        getattr(slack.fake, broken).clear()

    slack.fake.rate_limited["views.open"] = 1  # one 429 with Retry-After 1: waited out, still in time
    started = time.monotonic()
    assert (await slack.command(T1, ANN, "profile")).status == 200 and time.monotonic() - started < 3
    assert slack.fake.called("views.open")[-1].refused == 0


async def test_a_channel_deleted_right_after_a_message_takes_that_message_too(slack: Slack) -> None:
    """The message waits in the intake (the reorder window) when the deletion comes: the deletion must not
    overtake it, or the message is stored after its channel was forgotten and stays."""
    await slack.install(T1)
    assert (await slack.say(T1, ANN, f"<@{BOB}> is the build green?", slack.ts())).status == 200
    assert (await slack.event(T1, {"type": "channel_deleted", "channel": "C0GENERAL"})).status == 200
    await slack.settle()
    assert await slack.core.store.graph.messages_in(T1, "C0GENERAL") == []


async def _sent_while_the_database_is_down(slack: Slack, failing: tuple[object, str], event: dict[str, str]) -> None:
    """After one stored message, `event` comes while `failing` (a store method) cannot reach the database, for
    longer than a single retry would wait out; then the database is back and the work settles."""
    await slack.install(T1)
    await slack.say(T1, ANN, f"<@{BOB}> is the build green?", slack.ts())
    await slack.settle()
    slack.core.intake.backoff = (0.01, 0.05)
    slack.adapter.deferred.retry_delay = 0.01
    with database_down(slack.core.store, failing):
        assert (await slack.event(T1, event)).status == 200
        await asyncio.sleep(0.5)
    await slack.settle()


async def test_a_channel_deleted_while_the_database_is_away_is_forgotten_when_it_is_back(slack: Slack) -> None:
    """Slack had its 200 and will not send the deletion again: it must wait out the outage as messages do."""
    store = slack.core.store
    await _sent_while_the_database_is_down(slack, (store.graph, "messages_in"),
                                           {"type": "channel_deleted", "channel": "C0GENERAL"})
    assert await slack.core.store.graph.messages_in(T1, "C0GENERAL") == []


async def test_an_uninstall_right_after_a_message_erases_that_message_too(slack: Slack) -> None:
    """The message waits in the intake (the reorder window) when the uninstall comes: stored after the erasure,
    it stayed for good."""
    await slack.install(T1)
    assert (await slack.say(T1, ANN, f"<@{BOB}> is the build green?", slack.ts())).status == 200
    assert (await slack.event(T1, {"type": "app_uninstalled", "event_ts": slack.ts()})).status == 200
    await slack.settle()
    assert await rows(slack, MessageRow, workspace=T1) == 0
    assert await rows(slack, "members", workspace=T1) == 0


async def test_an_uninstall_while_the_database_is_away_erases_when_it_is_back(slack: Slack) -> None:
    """Slack sends app_uninstalled once: an erasure given up after one retry kept the workspace's data."""
    store = slack.core.store
    await _sent_while_the_database_is_down(slack, (store.privacy, "forget_workspace"),
                                           {"type": "app_uninstalled", "event_ts": slack.ts()})
    assert await rows(slack, MessageRow, workspace=T1) == 0


async def test_what_a_member_types_into_a_form_reaches_no_log(
        slack: Slack, every_log_line: Callable[[], list[str]]) -> None:
    """A profile is stored (the member can erase it there) but never logged: aiosqlite's DEBUG lines quoted every
    statement's parameters, so the profile's words stayed in the logs after the member erased it."""
    await slack.install(T1)
    await slack.command(T1, ANN, "profile")
    (opened,) = slack.fake.called("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    values = {b["block_id"]: {b["element"]["action_id"]: {"type": "plain_text_input", "value": f"I like {SENTINEL}"}}
              for b in view["blocks"] if b.get("type") == "input" and b["element"]["type"] == "plain_text_input"}
    submitted = await slack.interaction({
        "type": "view_submission", "team": {"id": T1}, "user": {"id": ANN, "team_id": T1}, "api_app_id": "A0RAPPORT",
        "view": {**view, "id": "V0VIEW", "state": {"values": values}}})
    assert submitted.status == 200 and values
    await slack.settle()
    assert await rows(slack, "profiles", workspace=T1) == 1
    assert [line for line in every_log_line() if SENTINEL in line] == []


async def test_the_join_notice_waits_out_a_database_outage(slack: Slack) -> None:
    """Rapport added to a channel says what it records there, once. Slack sends member_joined_channel once: a
    notice given up after one retry during an outage was never said."""
    await slack.install(T1)
    store = slack.core.store
    slack.adapter.deferred.retry_delay = 0.01
    joined = {"type": "member_joined_channel", "user": BOT_USER, "channel": "C0NEW", "channel_type": "C", "team": T1}
    with database_down(store, (store.runs, "deliver_once")):
        assert (await slack.event(T1, joined)).status == 200
        await asyncio.sleep(0.5)  # longer than the outage a single retry would wait out
    # The database is back.
    await slack.settle()
    assert [c.params["channel"] for c in slack.fake.called("chat.postMessage")] == ["C0NEW"]


async def test_junk_of_any_shape_or_a_bad_timestamp_gets_a_4xx_not_a_traceback(
        slack: Slack, caplog: pytest.LogCaptureFixture) -> None:
    """Anyone can post to the endpoint: JSON that is not an object, or a timestamp header that is not a number,
    made Bolt answer 500 with a traceback (and an unsigned request is never worth an error in the logs)."""
    form = "application/x-www-form-urlencoded"
    junk = [("[]", "application/json"), ('"x"', "application/json"), ("null", "application/json"),
            ('{"authorizations": {"0": 1}}', "application/json"), ("payload=%5B%5D", form), ("payload=null", form)]
    for body, kind in junk:
        unsigned = await slack.http.post("/slack/events", data=body.encode(), headers={"Content-Type": kind})
        assert 400 <= unsigned.status < 500, (body, unsigned.status)
        assert 400 <= (await slack.post(body, kind)).status < 500, body  # signed junk too
    for stamp in ("abc", "", "1e3"):
        forged = await slack.http.post("/slack/events", data=b"{}", headers={
            "Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=00"})
        assert forged.status == 401, stamp
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


async def test_a_signed_payload_of_the_wrong_shape_gets_400_and_changes_nothing(
        slack: Slack, every_log_line: Callable[[], list[str]]) -> None:
    """Correctly signed, but not shaped as Slack sends it: Bolt (or a listener) failed reading it and answered 500,
    which Slack retries for nothing; a channel of the wrong type reached the store. Now a 400 naming the field."""
    await slack.install(T1)
    calls = len(slack.fake.calls)
    message = {"type": "message", "channel": "C0GENERAL", "user": ANN, "ts": slack.ts(), "text": SENTINEL}
    interaction = {"type": "block_actions", "team": {"id": T1}, "user": {"id": ANN, "team_id": T1},
                   "trigger_id": "1337.42.abcd", "actions": [{"action_id": "wave#0", "value": SENTINEL}]}
    view = {**blocks.modal(Form("profile", "Profile", (FormField("intro", "About you"),)), "C0GENERAL"),
            "id": "V0VIEW", "state": {"values": {"intro": [SENTINEL]}}}
    malformed = [  # (the field the log names, the request)
        ("event", json.dumps({"type": "event_callback", "team_id": T1, "event": SENTINEL})),
        ("event.type", slack.event_body(T1, {k: v for k, v in message.items() if k != "type"})),
        ("event.channel", slack.event_body(T1, {k: v for k, v in message.items() if k != "channel"})),
        ("event.channel", slack.event_body(T1, {**message, "channel": {"id": "C0GENERAL"}})),
        ("payload.actions", urlencode({"payload": json.dumps({**interaction, "actions": SENTINEL})})),
        ("actions.0", urlencode({"payload": json.dumps({**interaction, "actions": [SENTINEL]})})),
        ("payload.user", urlencode({"payload": json.dumps({**interaction, "user": SENTINEL})})),
        ("view.state.values.intro", urlencode({"payload": json.dumps({
            "type": "view_submission", "team": {"id": T1}, "user": {"id": ANN, "team_id": T1}, "view": view})})),
        ("payload.user_id", urlencode({"team_id": T1, "channel_id": "C0GENERAL", "command": "/rapport",
                                       "text": f"share {SENTINEL}", "trigger_id": "1337.42.abcd"})),
    ]
    for field, body in malformed:
        kind = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
        forged = await slack.http.post("/slack/events", data=body.encode(),
                                       headers={"Content-Type": kind, **sign(body, secret="not-the-secret")})
        assert forged.status == 401, field
        assert (await slack.post(body, kind)).status == 400, field
    await slack.settle()

    assert await rows(slack, MessageRow) == 0
    assert len(slack.fake.calls) == calls
    lines = every_log_line()
    refused = [line for line in lines if "refused: malformed payload" in line]
    assert [line.rsplit("(", 1)[1] for line in refused] == [f"{field})" for field, _ in malformed]
    assert [line for line in lines if SENTINEL in line] == []
    # Slack's own payloads still go through.
    assert (await slack.say(T1, ANN, "who knows the deploy script?", slack.ts(1))).status == 200
    await slack.settle()
    assert await rows(slack, MessageRow) == 1


async def test_an_internal_failure_on_a_well_formed_payload_is_still_a_500(slack: Slack) -> None:
    """Only the payload's shape earns a 400: Slack redelivers an event answered 5xx, so a failure of ours must
    not read as Slack's mistake, or the event is lost."""
    await slack.install(T1)

    def broken(*_: object) -> None:
        raise RuntimeError("the workspace registry is away")

    slack.adapter.tokens.learn = broken  # type: ignore[method-assign]
    response = await slack.say(T1, ANN, "who knows the deploy script?", slack.ts())
    assert response.status == 500
