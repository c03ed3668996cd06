"""Understanding on a company and sentences that are not in the corpus: other names, other industries,
other regions, other ways of saying things. Written separately from the engine's rules, to keep them honest."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from models import Customer
from services.config import default_config
from services.parsing import SHANGHAI
from services.understanding import Intent, understand
from tests.understanding_company_b import LANTIAN, MESSAGES, WORLD_B
from tests.understanding_world import check, seed_world, substitute


@pytest.fixture
def company_b(db: tuple[str, Engine]) -> Any:
    _, engine = db
    with Session(engine) as session:
        world = seed_world(session, WORLD_B, config=default_config())
        session.commit()
        yield session, world


def test_another_company_is_understood(company_b: Any, capsys: pytest.CaptureFixture[str]) -> None:
    session, world = company_b
    config = default_config()
    misses = []
    for item in MESSAGES:
        text = substitute(item["text"], world)
        found = understand(
            session, user=world.users[item["who"]], text=text, now=world.today, config=config, tz=SHANGHAI
        )
        problems = check(found, item, world, session=session)
        if problems:
            misses.append(f"{item['who']}: {text}: {'; '.join(problems)}")
    score = 1 - len(misses) / len(MESSAGES)
    with capsys.disabled():
        print(f"\nunderstanding, second company: {len(MESSAGES) - len(misses)}/{len(MESSAGES)} = {score:.0%}")
        for miss in misses:
            print(f"  MISS {miss}")
    assert score >= 0.9


def test_a_renamed_customer_is_found_by_its_new_name_at_once(company_b: Any) -> None:
    """The lexicon is cached by the rows it was built from: an edit is seen by the next message."""
    session, world = company_b
    config = default_config()
    rep = world.users["liwei"]
    assert understand(
        session, user=rep, text="客户 蓝天", now=world.today, config=config, tz=SHANGHAI
    ).customer_ids
    customer = session.get(Customer, world.customers[LANTIAN])
    customer.name = "成都碧空环保设备有限公司"
    session.flush()
    assert (
        understand(
            session, user=rep, text="客户 蓝天", now=world.today, config=config, tz=SHANGHAI
        ).customer_ids
        == ()
    )
    renamed = understand(session, user=rep, text="客户 碧空", now=world.today, config=config, tz=SHANGHAI)
    assert renamed.customer_ids == (customer.id,)


def test_full_width_and_case_survive_into_the_content(company_b: Any) -> None:
    session, world = company_b
    found = understand(
        session,
        user=world.users["liwei"],
        text="山城那边想上一套MES，大概二十万",
        now=world.today,
        config=default_config(),
        tz=SHANGHAI,
    )
    assert found.intent is Intent.NEW_OPPORTUNITY
    assert found.text == "MES" and str(found.amount) == "200000.00"
    visit = understand(
        session,
        user=world.users["liwei"],
        text="拜访 蓝天，罗经理说ＯＫ。",
        now=world.today,
        config=default_config(),
        tz=SHANGHAI,
    )
    assert visit.intent is Intent.VISIT and visit.text == "罗经理说ＯＫ"


def test_a_command_word_typo_is_read_as_that_command(company_b: Any) -> None:
    session, world = company_b
    found = understand(
        session,
        user=world.users["liwei"],
        text="拜放 蓝天 聊了除尘方案",
        now=world.today,
        config=default_config(),
        tz=SHANGHAI,
    )
    # Not guessed into a write: the answer asks "是要记录拜访吗？" once, with the command and its arguments.
    assert (found.intent, found.command_typo, found.command) == (Intent.UNKNOWN, "拜访", "拜访")
    assert found.customer_ids == (world.customers[LANTIAN],)


def test_what_is_not_understood_stays_unknown_and_keeps_what_it_named(company_b: Any) -> None:
    session, world = company_b
    found = understand(
        session,
        user=world.users["liwei"],
        text="蓝天那个事你看着办",
        now=world.today,
        config=default_config(),
        tz=SHANGHAI,
    )
    assert found.intent in (Intent.UNKNOWN, Intent.QUERY_CUSTOMER)
    assert found.customer_ids == (world.customers[LANTIAN],)
    nothing = understand(
        session,
        user=world.users["liwei"],
        text="嗯嗯那个啥",
        now=world.today,
        config=default_config(),
        tz=SHANGHAI,
    )
    assert nothing.intent in (Intent.UNKNOWN, Intent.SMALLTALK) and nothing.customer_ids == ()


@pytest.mark.parametrize(
    ("outside", "nowhere"),
    [
        ("龙主任电话", "焦主任电话"),  # another rep's contact / a contact that exists nowhere
        ("黔丰的电话多少", "鼗丰的电话多少"),
        ("客户 黔丰", "客户 鼗丰"),
        ("刚从黔丰回来，龙主任说下周要样品", "刚从鼗丰回来，焦主任说下周要样品"),
        ("把黔丰分给陈静", "把鼗丰分给陈静"),
    ],
)
def test_an_out_of_scope_name_reads_exactly_like_an_unknown_one(
    company_b: Any, outside: str, nowhere: str
) -> None:
    session, world = company_b
    rep = world.users["liwei"]

    def read(text: str, names: tuple[str, str]) -> dict[str, Any]:
        found = understand(
            session, user=rep, text=text, now=world.today, config=default_config(), tz=SHANGHAI
        )
        fields = dict(vars(found))
        for key in ("text", "mention"):
            value = fields[key] or ""
            for i, name in enumerate(names):
                value = value.replace(name, f"<{i}>")
            fields[key] = value
        return fields

    a = read(outside, ("黔丰", "龙主任"))
    b = read(nowhere, ("鼗丰", "焦主任"))
    assert a == b
    assert a["customer_ids"] == () and a["contact"] is None


def test_a_new_customer_said_as_a_sentence_reads_as_the_command_would(company_b: Any) -> None:
    session, world = company_b
    found = understand(
        session,
        user=world.users["liwei"],
        text="认识了一家新客户叫德阳东方电机，联系人周工，电话13912345678",
        now=world.today,
        config=default_config(),
        tz=SHANGHAI,
    )
    assert found.intent is Intent.NEW_CUSTOMER and found.customer_ids == ()
    assert found.text == "德阳东方电机 联系人=周工 电话=13912345678"


def test_a_customer_taken_away_is_gone_from_the_very_next_message(company_b: Any) -> None:
    """Scope is read on every message: a reassigned customer stops resolving for its old owner at once."""
    session, world = company_b
    rep = world.users["liwei"]
    assert understand(
        session, user=rep, text="蓝天罗经理电话", now=world.today, config=default_config(), tz=SHANGHAI
    ).customer_ids
    customer = session.get(Customer, world.customers[LANTIAN])
    customer.owner_userid = "chenjing"
    session.flush()
    gone = understand(
        session, user=rep, text="蓝天罗经理电话", now=world.today, config=default_config(), tz=SHANGHAI
    )
    assert gone.customer_ids == () and gone.contact is None
    taker = understand(
        session,
        user=world.users["chenjing"],
        text="蓝天罗经理电话",
        now=world.today,
        config=default_config(),
        tz=SHANGHAI,
    )
    assert taker.customer_ids == (customer.id,) and taker.contact == "罗经理"
