"""Leads: parsing, the duplicate check that leaks nothing, the assignment rules, 接单 / 无效 / 转派, the SLA."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from chat.errors import DomainError
from models import Customer, Lead, LeadStatus, Opportunity, User, Visit
from services import lead_assign, lead_sla
from services import leads as svc
from services.config import BusinessConfig, default_config
from services.geo import company_key
from services.leadpool_config import LeadRule, LeadsConfig
from tests.harness import SHANGHAI, Bot

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)  # a Monday


def _user(s, userid: str) -> User:
    return s.scalar(select(User).where(User.userid == userid))


def _customer(s, name: str, owner: str, region: str, phone: str | None = None) -> Customer:
    c = Customer(
        name=name,
        name_norm=name,
        region=region,
        owner_userid=owner,
        phone=phone,
        phone_norm=phone,
        custom={},
        created_at=NOW - timedelta(days=1),
        updated_at=NOW,
    )
    s.add(c)
    s.flush()
    return c


def _config(**leads: object) -> BusinessConfig:
    base = default_config()
    return base.model_copy(update={"leads": LeadsConfig(**{**base.leads.model_dump(), **leads})})


def _lead(
    s,
    config: BusinessConfig,
    company: str,
    phone: str = "13900001111",
    *,
    by: str = "rep_e1",
    source: str = "展会",
    industry: str | None = None,
    address: str | None = None,
) -> svc.Created:
    return svc.create_lead(
        s,
        config=config,
        data=svc.LeadInput(
            company=company, contact="王总", phone=phone, source=source, industry=industry, address=address
        ),
        actor=by,
        user=_user(s, by),
        now=NOW,
    )


def test_company_key_drops_legal_form_and_place_prefix() -> None:
    assert (
        company_key("宁波华东精密有限公司") == company_key("浙江省宁波市华东精密") == company_key("华东精密")
    )
    assert company_key("华东精密") != company_key("华南精密")


def test_parse_command_usage_and_fields() -> None:
    config = default_config()
    got = svc.parse_command("宁波华东精密 王总 138-1234-5678 展会 想要报价", config=config)
    assert (got.company, got.contact, got.phone, got.source, got.note) == (
        "宁波华东精密",
        "王总",
        "13812345678",
        "展会",
        "想要报价",
    )
    unknown_source = svc.parse_command("华东精密 王总 13812345678 路演 下周来", config=config)
    assert unknown_source.source == "其他" and unknown_source.note == "路演 下周来"
    with pytest.raises(DomainError, match="用法：线索"):
        svc.parse_command("华东精密 王总", config=config)
    with pytest.raises(DomainError, match="看不懂电话"):
        svc.parse_command("华东精密 王总 12345", config=config)


def test_region_from_name_address_phone_then_source_default() -> None:
    config = _config(sources={"展会": "华南", "官网": None})
    detect = lead_assign.detect_region
    assert detect(config, company="宁波华东精密", address=None, phone=None, source="展会") == "华东"
    assert (
        detect(config, company="华东精密", address="广东省佛山市顺德区", phone=None, source="展会") == "华南"
    )
    assert detect(config, company="华东精密", address=None, phone="0574-87654321", source="官网") == "华东"
    assert detect(config, company="华东精密", address=None, phone="13812345678", source="展会") == "华南"
    assert detect(config, company="华东精密", address=None, phone="13812345678", source="官网") is None
    assert (
        detect(config, company="华东精密", address=None, phone=None, source="官网", hint="广西柳州") == "华南"
    )
    assert (
        detect(config, company="宁波华东精密", address=None, phone=None, source="官网", hint="华北") == "华北"
    )


def test_duplicate_check_leaks_nothing_to_another_region(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        _customer(s, "宁波华东精密有限公司", "rep_e1", "华东")
        with pytest.raises(svc.DuplicateLead) as caught:
            _lead(s, config, "浙江华东精密", by="rep_s1")
        assert caught.value.message == svc.FOLLOWED
        assert "张伟" not in caught.value.message and "rep_e1" not in caught.value.message
        # The same phone under another name is caught too, and says just as little.
        _customer(s, "甲公司", "rep_e2", "华东", phone="13900002222")
        with pytest.raises(svc.DuplicateLead) as by_phone:
            _lead(s, config, "乙公司", phone="13900002222", by="rep_s1")
        assert by_phone.value.message == svc.FOLLOWED
        # The owner learns it is their own.
        with pytest.raises(svc.DuplicateLead) as own:
            _lead(s, config, "华东精密", phone="13700000000", by="rep_e1")
        assert "已是您的客户" in own.value.message


def test_duplicate_of_an_open_lead(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        first = _lead(s, config, "宁波力拓机械", by="sup_east")
        assert first.lead.region == "华东"
        with pytest.raises(svc.DuplicateLead) as again:
            _lead(s, config, "力拓机械有限公司", phone="13600000000", by="rep_s1")
        assert again.value.message == svc.FOLLOWED


def test_round_robin_with_daily_cap_then_supervisor(bot: Bot) -> None:
    config = _config(daily_cap=2)
    with bot.session() as s, s.begin():
        got = [_lead(s, config, f"宁波客户{i}号", phone=f"1390000{i:04d}", by="sup_east") for i in range(5)]
        assignees = [c.lead.assignee_userid for c in got]
        assert sorted(assignees[:4]) == ["rep_e1", "rep_e1", "rep_e2", "rep_e2"]
        assert assignees[0] != assignees[1]  # alternates
        assert assignees[4] == "sup_east" and got[4].how == "supervisor"


def test_industry_rule_first(bot: Bot) -> None:
    config = _config(rules=[LeadRule(region="华东", industry="机械", reps=["rep_e2"])])
    with bot.session() as s, s.begin():
        for i in range(3):
            created = _lead(
                s, config, f"杭州机械{i}厂", phone=f"1380000{i:04d}", industry="机械", by="sup_east"
            )
            assert created.lead.assignee_userid == "rep_e2" and created.how == "rule"


def test_no_region_goes_to_a_director(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        created = _lead(s, config, "某某科技", source="官网", by="rep_e1")
        assert created.lead.region is None and created.lead.assignee_userid == "boss"


def test_accept_makes_customer_and_opportunity_moved_by_first_visit(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        lead = _lead(s, config, "宁波华东精密", by="sup_east").lead
        rep = _user(s, lead.assignee_userid)
        accepted = svc.accept(
            s, config=config, lead=svc.lead_for_action(s, lead_id=lead.id, user=rep), user=rep, now=NOW
        )
        customer = accepted.customer
        assert (
            customer.owner_userid == rep.userid
            and customer.region == "华东"
            and customer.phone == "13900001111"
        )
        opp = s.get(Opportunity, accepted.opportunity_id)
        assert opp.stage == "线索分配" and opp.owner_userid == rep.userid
        with pytest.raises(DomainError, match="已处理"):
            svc.lead_for_action(s, lead_id=lead.id, user=rep)
        s.add(
            Visit(
                customer_id=customer.id, userid=rep.userid, summary="见面", visited_at=NOW + timedelta(days=1)
            )
        )
        svc.on_visit(s, config=config, customer_id=customer.id, actor=rep.userid, now=NOW + timedelta(days=1))
        assert opp.stage == "初步接洽"
        assert s.get(Lead, lead.id).first_contact_at == NOW + timedelta(days=1)


def test_only_the_assignee_acts_and_invalid_needs_a_reason(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        lead = _lead(s, config, "宁波华东精密", by="sup_east").lead
        other = _user(s, "rep_s1")
        with pytest.raises(DomainError, match="不在您名下"):
            svc.lead_for_action(s, lead_id=lead.id, user=other)
        rep = _user(s, lead.assignee_userid)
        with pytest.raises(DomainError, match="原因"):
            svc.mark_invalid(s, lead=lead, user=rep, reason=" ", now=NOW)
        svc.mark_invalid(s, lead=lead, user=rep, reason="空号", now=NOW)
        assert lead.status == LeadStatus.INVALID and lead.invalid_reason == "空号"


def test_transfer_asks_the_supervisor(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        lead = _lead(s, config, "宁波华东精密", by="sup_east").lead
        rep = _user(s, lead.assignee_userid)
        colleague = _user(s, "rep_e2" if rep.userid == "rep_e1" else "rep_e1")
        boss = svc.request_transfer(s, lead=lead, user=rep, target=colleague, now=NOW)
        assert boss.userid == "sup_east" and lead.assignee_userid == rep.userid
        with pytest.raises(DomainError, match="不归您"):
            svc.decide_transfer(s, lead=lead, approver=_user(s, "sup_south"), approve=True, now=NOW)
        to = svc.decide_transfer(s, lead=lead, approver=boss, approve=True, now=NOW)
        assert to is not None and lead.assignee_userid == colleague.userid and lead.assign_count == 2


def test_sla_reminds_once_then_reassigns_and_tells_supervisor_once(bot: Bot) -> None:
    config = default_config()
    with bot.session() as s, s.begin():
        lead = _lead(s, config, "宁波华东精密", by="sup_east").lead
        first = lead.assignee_userid
        assert lead_sla.due_reminders(s, config=config, now=NOW + timedelta(hours=3)) == []
        assert [x.id for x in lead_sla.due_reminders(s, config=config, now=NOW + timedelta(hours=4))] == [
            lead.id
        ]
        assert lead_sla.due_reminders(s, config=config, now=NOW + timedelta(hours=5)) == []
        assert lead_sla.due_reassignments(s, config=config, now=NOW + timedelta(hours=23)) == []
        moved = lead_sla.due_reassignments(s, config=config, now=NOW + timedelta(hours=24))
        assert len(moved) == 1 and moved[0].previous == first
        assert moved[0].to is not None and moved[0].to.userid not in (first, None)
        assert moved[0].tell_supervisor is not None and moved[0].tell_supervisor.userid == "sup_east"
        second = lead.assignee_userid
        # The new assignee gets a fresh clock; the supervisor is not told again.
        later = lead_sla.due_reassignments(s, config=config, now=NOW + timedelta(hours=48))
        assert len(later) == 1 and later[0].previous == second and later[0].tell_supervisor is None


def test_sla_counts_working_hours_only(bot: Bot) -> None:
    config = default_config()
    friday_evening = datetime(2026, 11, 27, 22, 0, tzinfo=SHANGHAI)
    with bot.session() as s, s.begin():
        lead = svc.create_lead(
            s,
            config=config,
            data=svc.LeadInput(company="宁波华东精密", contact="王总", phone="13900001111", source="展会"),
            actor="sup_east",
            user=None,
            now=friday_evening,
        ).lead
        assert (
            lead_sla.due_reminders(s, config=config, now=friday_evening + timedelta(hours=30)) == []
        )  # Sunday
        monday = datetime(2026, 11, 30, 3, 0, tzinfo=SHANGHAI)
        assert [x.id for x in lead_sla.due_reminders(s, config=config, now=monday)] == [lead.id]
