"""A name that shares a word with a customer but says something the customer's name does not (another city,
another trade) is not that customer: 佛山汇丰冶金 is not 南京汇丰电气, 无锡海川 is not 厦门海川塑胶. The
sender gets "not found" (and never learns of a record outside their scope), or a question, never an action."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from services.config import default_config
from services.parsing import SHANGHAI
from services.understanding import Intent, understand
from tests.understanding_world import seed_world

WORLD: dict[str, Any] = {
    "today": "2027-03-10 09:15 Asia/Shanghai",
    "people": [
        {"userid": "rep_e", "name": "钱东", "role": "销售", "region": "华东", "manager": "sup_e"},
        {"userid": "rep_s", "name": "何南", "role": "销售", "region": "华南", "manager": "sup_s"},
        {"userid": "sup_e", "name": "吴东", "role": "销售主管", "region": "华东", "manager": "boss"},
        {"userid": "sup_s", "name": "林南", "role": "销售主管", "region": "华南", "manager": "boss"},
        {"userid": "boss", "name": "王总", "role": "总经理", "region": "总部", "manager": ""},
    ],
    "customers": [
        {"name": "南京汇丰电气设备有限公司", "owner": "rep_e", "contact": "周经理", "phone": "13800000001"},
        {"name": "佛山汇丰冶金科技有限公司", "owner": "rep_s", "contact": "白总", "phone": "13800000002"},
        {"name": "杭州恒力纺织有限公司", "owner": "rep_e", "contact": "孙工", "phone": "13800000003"},
        {"name": "厦门海川塑胶有限公司", "owner": "rep_s", "contact": "陈总", "phone": "13800000004"},
    ],
    "opportunities": [
        {"customer": "南京汇丰电气设备有限公司", "name": "配电柜改造", "amount": 100000, "stage": "方案制定"},
    ],
}
HUIFENG_NJ = "南京汇丰电气设备有限公司"
HENGLI = "杭州恒力纺织有限公司"
HAICHUAN = "厦门海川塑胶有限公司"


@pytest.fixture
def world(db: tuple[str, Engine]) -> Any:
    _, engine = db
    with Session(engine) as session:
        seeded = seed_world(session, WORLD, config=default_config())
        session.commit()
        yield session, seeded


def _understand(world: Any, who: str, text: str) -> Any:
    session, seeded = world
    return understand(
        session, user=seeded.users[who], text=text, now=seeded.today, config=default_config(), tz=SHANGHAI
    )


@pytest.mark.parametrize(
    ("who", "text"),
    [
        ("rep_e", "佛山汇丰冶金的白总电话给我一下"),
        ("rep_e", "客户 佛山汇丰冶金"),
        ("rep_e", "上午去了佛山汇丰冶金，白总说要扩产"),
        ("sup_s", "无锡海川最近怎么样"),
        ("rep_e", "宁波恒力化工最近怎么样"),
        ("rep_e", "客户 恒力化工"),
        ("rep_e", "汇丰冶金那边最近怎么样"),
    ],
)
def test_a_name_with_a_different_place_or_trade_names_no_customer(world: Any, who: str, text: str) -> None:
    found = _understand(world, who, text)
    assert found.customer_ids == (), (text, found)


@pytest.mark.parametrize(
    ("who", "text", "name"),
    [
        ("rep_e", "南京汇丰电气的周经理电话给我一下", HUIFENG_NJ),
        ("rep_e", "汇丰电气最近怎么样", HUIFENG_NJ),
        ("rep_e", "客户 汇丰", HUIFENG_NJ),
        ("rep_e", "上午去了汇丰，周经理说要扩产", HUIFENG_NJ),
        ("rep_e", "南京汇丰那边最近怎么样", HUIFENG_NJ),
        ("rep_e", "杭州恒力最近怎么样", HENGLI),
        ("rep_e", "恒力纺织的孙工电话", HENGLI),
        ("sup_s", "海川塑胶最近怎么样", HAICHUAN),
        ("sup_s", "厦门海川最近怎么样", HAICHUAN),
    ],
)
def test_the_customer_is_still_found_by_its_own_words(world: Any, who: str, text: str, name: str) -> None:
    session, seeded = world
    found = _understand(world, who, text)
    assert found.customer_ids == (seeded.customers[name],) and not found.did_you_mean, (text, found)
    assert found.intent is not Intent.UNKNOWN
