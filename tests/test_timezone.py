"""One configured local zone (SALESBOT_TIMEZONE), passed down: a follow-up's 明天下午3点, its card and the
digest's days are wall time there, end to end through the bot; the default stays Asia/Shanghai."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from bot.cli import main
from chat.settings import Settings
from models import Push, Reminder
from tests import digest_factory as f
from tests.harness import Bot, FrozenClock, make_bot, seed_org

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
# Thursday 21:00 in Berlin is already Friday 04:00 in Shanghai: "tomorrow" is a different day in each.
THURSDAY_EVENING_BERLIN = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)


def _bot(db: tuple[str, Engine]) -> Iterator[Bot]:
    url, engine = db
    bot = make_bot(url, engine, clock=FrozenClock(THURSDAY_EVENING_BERLIN))
    with bot.session() as s, s.begin():
        seed_org(s)
        f.customer(s, "华东精密", owner="rep_e1", region="华东")
    yield bot
    bot.client.close()


@pytest.fixture
def berlin_bot(db: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    monkeypatch.setenv("SALESBOT_TIMEZONE", "Europe/Berlin")
    yield from _bot(db)


@pytest.fixture
def default_bot(db: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    monkeypatch.delenv("SALESBOT_TIMEZONE", raising=False)
    yield from _bot(db)


def _reminder(bot: Bot) -> Reminder:
    with bot.session() as s:
        return s.scalars(select(Reminder)).one()


def test_a_followup_is_set_and_shown_in_the_configured_zone(berlin_bot: Bot) -> None:
    bot = berlin_bot
    assert bot.state.settings.tz == BERLIN
    bot.send_text("rep_e1", "跟进 华东精密 明天下午3点 送样品")
    reply = bot.last_text("rep_e1")
    r = _reminder(bot)
    assert r.due_at == datetime(2026, 11, 27, 15, 0, tzinfo=BERLIN)  # Friday 15:00 in Berlin (14:00 UTC)
    assert "11月27日(周五) 15:00" in reply

    # The tick an hour late: 18:00 on Friday in Berlin, already Saturday 01:00 in Shanghai.
    bot.run_job("reminders", datetime(2026, 11, 27, 17, 0, tzinfo=UTC))
    card = str(bot.cards("rep_e1")[-1])
    assert "送样品" in card and "15:00" in card and "22:00" not in card  # not Shanghai's clock
    with bot.session() as s:
        # The push budget counts the recipient's day in the configured zone too.
        assert s.scalars(select(Push.day).where(Push.recipient == "rep_e1")).all() == [date(2026, 11, 27)]


def test_the_default_zone_stays_asia_shanghai(default_bot: Bot) -> None:
    bot = default_bot
    assert Settings(_env_file=None).tz == SHANGHAI  # type: ignore[call-arg]
    bot.send_text("rep_e1", "跟进 华东精密 明天下午3点 送样品")
    # At the same instant it is Friday 04:00 in Shanghai: 明天 is Saturday.
    assert _reminder(bot).due_at == datetime(2026, 11, 28, 15, 0, tzinfo=SHANGHAI)
    assert "11月28日(周六) 15:00" in bot.last_text("rep_e1")


def test_the_digest_reports_the_configured_zones_yesterday(berlin_bot: Bot) -> None:
    bot = berlin_bot
    with bot.session() as s, s.begin():
        east = s.scalars(select(f.Customer).where(f.Customer.name == "华东精密")).one()
        # Late Friday evening in Berlin (Saturday morning in Shanghai): Friday's visit in Berlin.
        f.visit(s, east, userid="rep_e1", when=datetime(2026, 11, 27, 23, 30, tzinfo=BERLIN))
        # Late Thursday in Berlin (Friday in Shanghai): not Friday's.
        f.visit(s, east, userid="rep_e2", when=datetime(2026, 11, 26, 23, 30, tzinfo=BERLIN))

    # 08:45 on Saturday in Berlin is 15:45 in Shanghai, after the digest's catch-up time there.
    summary = bot.run_job("digest", datetime(2026, 11, 28, 8, 45, tzinfo=BERLIN))
    assert "sent 3" in summary, summary
    text = "\n".join(bot.texts("sup_east"))
    assert "11月27日（昨日）" in text
    assert "**昨日拜访** 共 1 次\n> 张伟 1次" in text  # Friday 23:30 in Berlin is Friday's, not Saturday's
    [quiet] = [line for line in text.splitlines() if "昨日未记录拜访" in line]
    assert "李娜" in quiet and "张伟" not in quiet  # Thursday 23:30 in Berlin is not Friday's


def test_a_bad_zone_stops_the_command_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SALESBOT_TIMEZONE", "Asia/Beijing")
    with pytest.raises(SystemExit) as stopped:
        main(["config", "check", "salesbot.example.yaml"])
    message = str(stopped.value)
    assert "SALESBOT_TIMEZONE='Asia/Beijing'" in message and "未知的时区" in message
    assert "unknown time zone 'Asia/Beijing'" in message and "Traceback" not in capsys.readouterr().err


def test_config_check_says_when_an_old_digest_timezone_differs(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "salesbot.yaml"  # type: ignore[operator]
    path.write_text("digest:\n  timezone: Asia/Shanghai\n", encoding="utf-8")
    monkeypatch.setenv("SALESBOT_TIMEZONE", "Asia/Shanghai")
    assert main(["config", "check", str(path)]) == 0
    assert "digest.timezone" not in capsys.readouterr().out  # the same zone: an old file is simply accepted

    monkeypatch.setenv("SALESBOT_TIMEZONE", "Asia/Urumqi")
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("配置有效")
    assert "digest.timezone（Asia/Shanghai）" in out and "SALESBOT_TIMEZONE（Asia/Urumqi）" in out
