"""A deterministic demo company for `salesbot demo`: people, customers and six months of sales history. Long
because it seeds a whole believable company (people, customers, a year of history); demo code only.

Everything comes from `random.Random(seed)` and the `now` passed in, so the same (seed, now) gives the same
company. Rows are written with the models directly (fast: well under a second for ~150 customers).
The pending quotes are requested through the real approval service (`services.approval_request.request_quote`), so
their steps, card tasks and approval cards are exactly what a rep's 报价 would produce; the cards are enqueued to
the approvers' outbox and reach them when the demo starts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from demo.seed_leads import seed_leads
from models import (
    ApprovalStep,
    Contract,
    Customer,
    Opportunity,
    Payment,
    Quote,
    QuoteStatus,
    Reminder,
    ReminderStatus,
    Role,
    StageMove,
    StepStatus,
    User,
    Visit,
)
from services import approval_request, pushes
from services.config import BusinessConfig
from services.indicators import same_period_last_month
from services.parsing import SHANGHAI, normalize_name
from services.targets import seed_demo_targets

DEFAULT_SEED = 2026
REGIONS = ("华东", "华南", "华北")
REPS_PER_REGION = {"华东": 13, "华南": 12, "华北": 10}
CUSTOMER_COUNT = 150

# Fixed people, so the README and the tests can name them.
DIRECTOR = ("wang_zong", "王建国", Role.DIRECTOR, None, None)
ADMIN = ("admin", "刘晓梅", Role.ADMIN, None, None)
TECH_LEAD = ("tech_sun", "孙志刚", Role.TECH_LEAD, None, "wang_zong")
FINANCE = ("fin_zhou", "周丽华", Role.FINANCE, None, "wang_zong")
SUPERVISORS = {
    "华东": ("sup_east", "陈志明"),
    "华南": ("sup_south", "黄海涛"),
    "华北": ("sup_north", "马振华"),
}
REGION_CODE = {"华东": "e", "华南": "s", "华北": "n"}
REGION_CITIES = {
    "华东": ("上海", "苏州", "杭州", "宁波", "无锡", "南京", "常州", "合肥"),
    "华南": ("广州", "深圳", "东莞", "佛山", "珠海", "厦门", "中山", "惠州"),
    "华北": ("北京", "天津", "石家庄", "唐山", "保定", "太原", "济南", "廊坊"),
}
REGION_CENTRE = {"华东": (31.23, 121.47), "华南": (23.13, 113.26), "华北": (39.90, 116.40)}

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "丽",
    "晓东",
    "海燕",
    "国庆",
    "文博",
    "子涵",
    "雨欣",
    "浩然",
    "思远",
    "俊杰",
    "佳怡",
    "宇航",
    "欣怡",
    "建国",
    "春梅",
    "振宇",
    "晨曦",
    "立新",
    "卫东",
    "红梅",
    "小龙",
    "凯",
)
WORDS = (
    "恒力",
    "华通",
    "精工",
    "宏达",
    "新锐",
    "联创",
    "永盛",
    "汇丰",
    "中科",
    "天成",
    "瑞祥",
    "金桥",
    "东方",
    "博远",
    "信达",
    "鼎盛",
    "华鑫",
    "远航",
    "卓越",
    "同创",
    "海川",
    "正泰",
    "晶华",
    "嘉禾",
    "力拓",
    "万象",
    "启明",
    "明阳",
    "九州",
    "长城",
    "腾飞",
    "富源",
    "泰和",
    "安捷",
    "众合",
    "隆基",
    "德润",
    "星辰",
)
KINDS = (
    ("精密机械", "机械制造"),
    ("电气设备", "电力设备"),
    ("汽车零部件", "汽车"),
    ("化工", "化工"),
    ("食品", "食品饮料"),
    ("电子科技", "电子"),
    ("新能源", "新能源"),
    ("制药", "医药"),
    ("纺织", "纺织"),
    ("冶金", "冶金"),
    ("包装材料", "包装"),
    ("环保设备", "环保"),
    ("塑胶制品", "塑料橡胶"),
)
PRODUCTS = (
    "变频空压机",
    "数控机床改造",
    "配电柜",
    "工业机器人工作站",
    "冷水机组",
    "伺服系统",
    "输送线",
    "除尘设备",
    "精密减速机",
    "激光切割机",
    "注塑机",
    "智能仓储货架",
    "备件年度框架",
    "产线自动化改造",
    "不间断电源",
)
MODELS = ("KX-200", "KX-350", "HT-90", "HT-120", "ZR-5", "MX-800", "SV-30")
VISIT_NOTES = (
    "介绍新款{p}，客户对能耗指标感兴趣",
    "设备科反馈现有{p}故障率高，约下周技术交流",
    "与采购经理谈了年度预算，{p}预计下季度立项",
    "现场勘查车间布局，收集{p}安装条件",
    "技术方案沟通，客户要求补充{p}的节能测算",
    "陪同技术负责人答疑，客户倾向我们的{p}方案",
    "客户老板到场，谈了付款方式和交期",
    "送样测试结果良好，约定下月复盘",
    "了解到竞品在接触，需尽快出{p}报价",
    "回访已交付设备运行情况，客户满意",
    "催收尾款，财务答应月底前安排",
    "节后拜访，维护关系，了解新项目线索",
)
REMINDER_TITLES = (
    "发送{p}技术方案",
    "电话确认样机测试结果",
    "约客户老板面谈",
    "跟进尾款回款",
    "提交{p}报价材料",
    "安排技术交流会",
    "回访设备运行情况",
    "确认合同条款修改",
)
LOST_REASONS = ("价格高于竞品", "客户项目取消", "交期无法满足", "预算冻结", "选择了原供应商")
NOTES = ("含安装调试", "首批试点", "年度框架价", "含两年质保", "客户要求加急")


@dataclass
class DemoSummary:
    """What was seeded, and a few names the README, the page and the tests point at."""

    users: int = 0
    customers: int = 0
    visits: int = 0
    opportunities: int = 0
    quotes: int = 0
    pending_approvals: int = 0
    contracts: int = 0
    payments: int = 0
    reminders: int = 0
    targets: int = 0
    stages: dict[str, int] = field(default_factory=dict)
    demo_rep: str = ""
    demo_customer: str = ""
    demo_opportunity: str = ""
    demo_supervisor: str = ""
    leads: int = 0
    pool: int = 0

    def line(self) -> str:
        return (
            f"{self.users} 人，{self.customers} 个客户，{self.visits} 次拜访，{self.opportunities} 个商机，"
            f"{self.quotes} 份报价（{self.pending_approvals} 份待审批），{self.contracts} 份合同，"
            f"{self.payments} 笔回款，{self.reminders} 条待办，{self.targets} 个本月目标，{self.leads} 条线索，公海 {self.pool} 个客户"
        )


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def _workday_back(rng: random.Random, today: date, lo: int, hi: int) -> date:
    day = today - timedelta(days=rng.randint(lo, hi))
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def _money(rng: random.Random, lo: int, hi: int, step: int = 1000) -> Decimal:
    return Decimal(rng.randrange(lo // step, hi // step + 1) * step)


def is_seeded(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(User)))


def seed_demo(
    session: Session, *, config: BusinessConfig, now: datetime, seed: int = DEFAULT_SEED
) -> DemoSummary:
    """Write the demo company into an empty database (inside the caller's transaction)."""
    rng = random.Random(seed)
    today = now.astimezone(SHANGHAI).date()
    summary = DemoSummary()
    start = now - timedelta(days=200)

    # --- people -----------------------------------------------------------------------------------
    users: list[User] = []
    names_used: set[str] = set()

    def person(userid: str, name: str, role: str, region: str | None, manager: str | None) -> User:
        names_used.add(name)
        user = User(
            userid=userid,
            display_userid=userid,
            name=name,
            role=role,
            region=region,
            manager_userid=manager,
            active=True,
            created_at=start,
            updated_at=start,
        )
        users.append(user)
        return user

    for row in (DIRECTOR, ADMIN, TECH_LEAD, FINANCE):
        person(*row)
    reps: dict[str, list[User]] = {}
    for region in REGIONS:
        sup_id, sup_name = SUPERVISORS[region]
        person(sup_id, sup_name, Role.SUPERVISOR, region, DIRECTOR[0])
        reps[region] = []
        for i in range(1, REPS_PER_REGION[region] + 1):
            while True:
                name = rng.choice(SURNAMES) + rng.choice(GIVEN)
                if name not in names_used:
                    break
            reps[region].append(person(f"rep_{REGION_CODE[region]}{i:02d}", name, Role.REP, region, sup_id))
    session.add_all(users)
    all_reps = [u for region in REGIONS for u in reps[region]]
    by_id = {u.userid: u for u in users}

    # --- customers --------------------------------------------------------------------------------
    customers: list[Customer] = []
    taken: set[str] = set()
    for i in range(CUSTOMER_COUNT):
        owner = all_reps[i % len(all_reps)] if i < len(all_reps) * 2 else rng.choice(all_reps)
        region = owner.region or REGIONS[0]
        while True:
            city = rng.choice(REGION_CITIES[region])
            word = rng.choice(WORDS)
            kind, industry = rng.choice(KINDS)
            name = f"{city}{word}{kind}有限公司"
            if normalize_name(name) not in taken:
                break
        taken.add(normalize_name(name))
        lat0, lng0 = REGION_CENTRE[region]
        complete = rng.random() < 0.88  # 客户信息完整率 around 90%, like a team that keeps its records
        phone = f"13{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}"
        created = start + timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 8))
        customers.append(
            Customer(
                name=name,
                name_norm=normalize_name(name),
                industry=industry,
                region=region,
                contact=rng.choice(SURNAMES) + rng.choice(("经理", "工", "总", "主任")),
                phone=phone,
                phone_norm=phone,
                address=f"{city}市{word}路{rng.randint(1, 999)}号",
                custom={"power_load_grade": rng.choice(("一级", "二级", "三级"))} if complete else {},
                owner_userid=owner.userid,
                latitude=round(lat0 + rng.uniform(-0.4, 0.4), 5),
                longitude=round(lng0 + rng.uniform(-0.4, 0.4), 5),
                complete=complete,
                created_at=created,
                updated_at=created,
            )
        )
        if complete and rng.random() < 0.5:
            customers[-1].custom["past_models"] = rng.choice(MODELS)
    session.add_all(customers)
    session.flush()

    # --- visits: six months, a few every working day, and some yesterday ---------------------------
    visits: list[Visit] = []
    visited: dict[int, datetime] = {}

    def add_visit(customer: Customer, when: datetime, note: str | None = None) -> Visit:
        product = rng.choice(PRODUCTS)
        visit = Visit(
            customer_id=customer.id,
            userid=customer.owner_userid,
            summary=note or rng.choice(VISIT_NOTES).format(p=product),
            visited_at=when,
            latitude=customer.latitude,
            longitude=customer.longitude,
            location_label=customer.address,
            distance_m=round(rng.uniform(5, 300), 1),
            photo_count=0,
        )
        visits.append(visit)
        first = visited.get(customer.id)
        visited[customer.id] = when if first is None or when < first else first
        return visit

    for customer in customers:
        for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 5, 6))):
            day = _workday_back(rng, today, 1, 180)
            add_visit(customer, _local(day, rng.randint(9, 17), rng.choice((0, 15, 30, 45))))
    yesterday = today - timedelta(days=1)
    while yesterday.weekday() >= 5:
        yesterday -= timedelta(days=1)
    for customer in rng.sample(customers, 14):
        add_visit(customer, _local(yesterday, rng.randint(9, 17), rng.choice((0, 20, 40))))
    # And some earlier today, so that tomorrow morning's digest (the one the page runs) has visits too.
    local_now = now.astimezone(SHANGHAI)
    if today.weekday() < 5 and local_now.hour >= 10:
        minutes = min(local_now.hour, 18) * 60 - 9 * 60 - 10
        for customer in rng.sample(customers, 12):
            offset = rng.randint(0, minutes)
            add_visit(customer, _local(today, 9 + offset // 60, offset % 60))

    # --- opportunities at every stage ----------------------------------------------------------------
    stages = list(config.stages)
    plan = [s for s in stages for _ in range(16 if s == stages[0] else 14)] + [config.lost_stage] * 10
    rng.shuffle(plan)
    quote_stage = "报价审批" if "报价审批" in stages else stages[min(3, len(stages) - 1)]
    contract_stage_index = stages.index(quote_stage) + 1 if quote_stage in stages else len(stages)
    opps: list[tuple[Opportunity, Customer, int]] = []
    for target in plan:
        customer = rng.choice(customers)
        target_index = (
            stages.index(target) if target in stages else rng.randint(0, max(0, contract_stage_index - 2))
        )
        created = now - timedelta(days=rng.randint(max(5, 12 * target_index), 150), hours=rng.randint(0, 9))
        if target_index >= 2 and customer.id not in visited:  # 方案制定 needs a visit first
            add_visit(customer, created + timedelta(days=1, hours=2))
        items = [s.item for s in config.score_card if rng.random() < 0.55]
        score, priority = config.score(items)
        opp = Opportunity(
            customer_id=customer.id,
            name=rng.choice(PRODUCTS),
            amount=_money(rng, 20000, 480000),
            stage=target,
            score=score,
            priority=priority,
            score_items=items,
            owner_userid=customer.owner_userid,
            created_at=created,
            updated_at=created,
            lost_reason=rng.choice(LOST_REASONS) if target == config.lost_stage else None,
            closed_at=created + timedelta(days=rng.randint(5, 30)) if target == config.lost_stage else None,
        )
        opps.append((opp, customer, target_index))
    session.add_all([o for o, _, _ in opps])
    session.add_all(visits)
    session.flush()

    # Stage history, quotes, contracts and payments that make every gate true.
    moves: list[StageMove] = []
    quotes: list[Quote] = []
    contracts: list[Contract] = []
    pending: list[tuple[Opportunity, Customer, datetime]] = []
    for opp, customer, target_index in opps:
        span = max(1, int((now - opp.created_at).total_seconds() // 86400) - 1)
        moves.append(
            StageMove(
                opportunity_id=opp.id,
                from_stage=None,
                to_stage=stages[0],
                moved_by=opp.owner_userid,
                moved_at=opp.created_at,
            )
        )
        when = opp.created_at
        for i in range(1, target_index + 1):
            when = when + timedelta(days=max(1, span // (target_index + 2)), hours=rng.randint(0, 4))
            if i >= 2 and customer.id in visited and visited[customer.id] > when:
                when = visited[customer.id] + timedelta(hours=3)
            when = min(when, now - timedelta(hours=2 * (target_index - i + 1)))
            stage = stages[i]
            if stage == quote_stage and target_index == i:
                # Requested through the real approval service below (routing, steps, card to the approver).
                opp.stage = stages[i - 1]
                pending.append((opp, customer, when))
                break
            moves.append(
                StageMove(
                    opportunity_id=opp.id,
                    from_stage=stages[i - 1],
                    to_stage=stage,
                    moved_by=opp.owner_userid,
                    moved_at=when,
                )
            )
            if stage == quote_stage:
                amount = ((opp.amount or Decimal(50000)) * Decimal("0.95")).quantize(Decimal(1000))
                quotes.append(
                    Quote(
                        opportunity_id=opp.id,
                        amount=amount,
                        note=rng.choice(NOTES),
                        requester_userid=opp.owner_userid,
                        status=QuoteStatus.APPROVED,
                        current_step=1,
                        step_count=len(config.chain_for(amount)),
                        created_at=when,
                        decided_at=when + timedelta(days=1),
                    )
                )
            if i == contract_stage_index:
                contracts.append(
                    Contract(
                        opportunity_id=opp.id,
                        customer_id=customer.id,
                        amount=(opp.amount or Decimal(0)),
                        signed_at=when,
                        signed_by=opp.owner_userid,
                    )
                )
        opp.updated_at = when
    # Older repeat business (for segments: stars, growth, dormant customers).
    for customer in rng.sample(customers, 55):
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            signed = _local(_workday_back(rng, today, 20, 420), rng.randint(9, 17))
            contracts.append(
                Contract(
                    opportunity_id=None,
                    customer_id=customer.id,
                    amount=_money(rng, 30000, 260000),
                    signed_at=signed,
                    signed_by=customer.owner_userid,
                )
            )
    contracts += _healthy_months(rng, contracts, customers, reps, now)
    session.add_all(moves)
    session.add_all(quotes)
    session.add_all(contracts)
    session.flush()

    payments: list[Payment] = []
    for contract in contracts:
        if contract.signed_at > now - timedelta(days=3):
            continue
        paid = Decimal(0)
        for share in rng.choice(
            (
                (Decimal("0.3"),),
                (Decimal("0.3"), Decimal("0.6")),
                (Decimal("0.3"), Decimal("0.6"), Decimal("0.1")),
            )
        ):
            received = contract.signed_at + timedelta(days=rng.randint(3, 45) * (1 + len(payments) % 2))
            if received >= now:
                break
            amount = (contract.amount * share).quantize(Decimal("0.01"))
            paid += amount
            payments.append(
                Payment(
                    contract_id=contract.id,
                    customer_id=contract.customer_id,
                    amount=amount,
                    received_at=received,
                    recorded_by=contract.signed_by,
                )
            )
    session.add_all(payments)
    session.flush()
    from demo.collections_seed import seed_collections  # plans, milestones and invoices in every state

    east_rep = reps["华东"][0]
    seed_collections(
        session,
        config=config,
        now=now,
        rng=random.Random(seed + 19),
        contracts=contracts,
        demo_rep=east_rep,
        demo_customers=[c for c in customers if c.owner_userid == east_rep.userid] or customers[:1],
    )

    # Segments as the nightly job would compute them (so 客户 360 shows one before the job first runs).
    per_customer: dict[int, list[Contract]] = {}
    for contract in contracts:
        per_customer.setdefault(contract.customer_id, []).append(contract)
    for customer in customers:
        signed_contracts = per_customer.get(customer.id, [])
        if not signed_contracts:
            continue
        last365 = [c for c in signed_contracts if c.signed_at >= now - timedelta(days=365)]
        recent = sum(
            (c.amount for c in signed_contracts if c.signed_at >= now - timedelta(days=180)), Decimal(0)
        )
        before = sum(
            (
                c.amount
                for c in signed_contracts
                if now - timedelta(days=360) <= c.signed_at < now - timedelta(days=180)
            ),
            Decimal(0),
        )
        if recent == 0:
            customer.segment = "休眠"
        elif len(last365) >= 3 and sum((c.amount for c in last365), Decimal(0)) > 200000:
            customer.segment = "明星"
        elif recent > 0 and recent >= Decimal("1.5") * before:
            customer.segment = "成长"
        else:
            customer.segment = "稳定"
        customer.segment_since = today - timedelta(days=rng.randint(1, 60))

    # --- pending approvals: steps, and the card in the approver's chat ------------------------------
    chosen_supervisor = ""
    for quote in quotes:
        if quote.status != QuoteStatus.APPROVED:
            continue
        opp_owner = by_id[next(o.owner_userid for o, _, _ in opps if o.id == quote.opportunity_id)]
        for seq, role in enumerate(config.chain_for(quote.amount), start=1):
            acted = quote.created_at + timedelta(hours=4 * seq)
            approver = _approver(role, opp_owner, users)
            session.add(
                ApprovalStep(
                    quote_id=quote.id,
                    seq=seq,
                    role=role,
                    approver_userid=approver,
                    status=StepStatus.APPROVED,
                    acted_by=approver,
                    acted_at=acted,
                    activated_at=acted - timedelta(hours=4),
                )
            )
        quote.current_step = quote.step_count
    session.flush()
    notices: list[pushes.Event] = []
    for opp, _customer, when in pending:
        owner = by_id[opp.owner_userid]
        # Amounts on both sides of the ¥50,000 edge: short chains (supervisor) and long ones (+ tech lead, finance).
        amount = (
            _money(rng, 20000, 48000)
            if rng.random() < 0.5
            else ((opp.amount or Decimal(80000)) * Decimal("0.95")).quantize(Decimal(1000))
        )
        requested = max(when, now - timedelta(hours=rng.randint(2, 96)))  # waiting hours to a few days
        request = approval_request.request_quote(
            session,
            config=config,
            requester=owner,
            opportunity=opp,
            amount=amount,
            note=rng.choice(NOTES),
            now=requested,
        )
        quotes.append(request.quote)
        notices += [
            pushes.notice(
                reply, to=reply.to or owner.userid, key=f"demo-seed:quote:{request.quote.id}:{index}"
            )
            for index, reply in enumerate(request.notifications)
        ]
        if owner.region == "华东" and not chosen_supervisor:
            chosen_supervisor = request.chain[0].approver.userid

    # The seeded approval cards go through the push budget like any card (services/pushes.py): one message per
    # approver (the waiting quotes listed, the first one's 同意 / 驳回), the rest in their 待办.
    pushes.push_all(session, notices, now=now, tz=SHANGHAI, config=config.pushes)

    # --- reminders: overdue, today, this week; and some done ------------------------------------------
    reminders: list[Reminder] = []
    for rep in all_reps:
        own = [c for c in customers if c.owner_userid == rep.userid]
        if not own:
            continue
        for _ in range(rng.randint(1, 3)):
            customer = rng.choice(own)
            # Mostly ahead: a healthy team has only a few follow-ups overdue.
            due_day = today + timedelta(days=rng.randint(-3, -1) if rng.random() < 0.1 else rng.randint(1, 6))
            due = _local(due_day, rng.choice((9, 10, 14, 15, 16)), rng.choice((0, 30)))
            overdue = due < now
            reminders.append(
                Reminder(
                    owner_userid=rep.userid,
                    customer_id=customer.id,
                    title=rng.choice(REMINDER_TITLES).format(p=rng.choice(PRODUCTS)),
                    due_at=due,
                    status=ReminderStatus.OPEN,
                    source=rng.choice(("manual", "visit")),
                    notified_at=due if overdue else None,
                    created_at=due - timedelta(days=rng.randint(1, 7)),
                )
            )
        # The last four weeks' follow-ups, nearly all done on time (关键节点按时完成率 ≈ 85–92%).
        for _ in range(rng.randint(6, 9)):
            due = _local(
                _workday_back(rng, today, 1, 28), rng.choice((9, 10, 14, 15, 16)), rng.choice((0, 30))
            )
            late = rng.random() < 0.07
            done_at = due + (
                timedelta(hours=rng.randint(2, 30)) if late else -timedelta(minutes=rng.randint(10, 1200))
            )
            reminders.append(
                Reminder(
                    owner_userid=rep.userid,
                    customer_id=rng.choice(own).id,
                    title=rng.choice(REMINDER_TITLES).format(p=rng.choice(PRODUCTS)),
                    due_at=due,
                    status=ReminderStatus.DONE,
                    source=rng.choice(("manual", "visit")),
                    notified_at=due,
                    completed_at=min(done_at, now),
                    created_at=due - timedelta(days=rng.randint(1, 7)),
                )
            )
    session.add_all(reminders)
    session.flush()

    # --- the names the page suggests -------------------------------------------------------------------
    rep_region = "华东"
    demo_rep = reps[rep_region][0]
    own = [c for c in customers if c.owner_userid == demo_rep.userid]
    summary.demo_rep = demo_rep.userid
    summary.demo_customer = own[0].name if own else customers[0].name
    open_plan = [o for o, c, i in opps if o.owner_userid == demo_rep.userid and o.stage == "方案制定"]
    if not open_plan and own:  # make sure the demo rep has something to quote
        opp = Opportunity(
            customer_id=own[0].id,
            name="变频空压机",
            amount=Decimal(80000),
            stage=stages[min(2, len(stages) - 1)],
            score=75,
            priority="A" if config.priority_for(75) == "A" else config.priority_for(75),
            score_items=[s.item for s in config.score_card][:2],
            owner_userid=demo_rep.userid,
            created_at=now - timedelta(days=20),
            updated_at=now - timedelta(days=6),
        )
        if own[0].id not in visited:
            session.add(
                Visit(
                    customer_id=own[0].id,
                    userid=demo_rep.userid,
                    summary="初次拜访，介绍公司产品",
                    visited_at=now - timedelta(days=19),
                    photo_count=0,
                )
            )
        session.add(opp)
        session.flush()
        session.add(
            StageMove(
                opportunity_id=opp.id,
                from_stage=None,
                to_stage=stages[0],
                moved_by=demo_rep.userid,
                moved_at=opp.created_at,
            )
        )
        session.add(
            StageMove(
                opportunity_id=opp.id,
                from_stage=stages[0],
                to_stage=opp.stage,
                moved_by=demo_rep.userid,
                moved_at=opp.updated_at,
            )
        )
        open_plan = [opp]
    summary.demo_opportunity = f"#{open_plan[0].id}" if open_plan else ""
    summary.demo_supervisor = chosen_supervisor or SUPERVISORS[rep_region][0]
    seeded = seed_leads(session, config=config, now=now, rng=rng, demo_rep=demo_rep)
    summary.leads, summary.pool = seeded.leads, seeded.pool

    summary.targets = seed_demo_targets(session, now=now)
    summary.users = len(users)
    summary.customers = len(customers)
    summary.visits = session.scalar(select(func.count()).select_from(Visit)) or 0
    summary.opportunities = session.scalar(select(func.count()).select_from(Opportunity)) or 0
    summary.quotes = len(quotes)
    summary.pending_approvals = len(pending)
    summary.contracts = len(contracts)
    summary.payments = len(payments)
    summary.reminders = sum(1 for r in reminders if r.status == ReminderStatus.OPEN)
    for stage, count in session.execute(
        select(Opportunity.stage, func.count()).group_by(Opportunity.stage)
    ).all():
        summary.stages[stage] = count
    return summary


def _healthy_months(
    rng: random.Random,
    contracts: list[Contract],
    customers: list[Customer],
    reps: dict[str, list[User]],
    now: datetime,
) -> list[Contract]:
    """Extra contracts so that each region looks like a growing business: at least five reps have signed
    this month, and this month so far is 6–20% above the same period of last month (销售额环比增长)."""
    this_start, last_start, last_end = same_period_last_month(now, SHANGHAI)
    owned: dict[str, list[Customer]] = {}
    for customer in customers:
        owned.setdefault(customer.owner_userid, []).append(customer)
    added: list[Contract] = []

    def sign(rep: User, lo: datetime, hi: datetime) -> Contract:
        span = max((hi - lo).total_seconds(), 60.0)
        signed = lo + timedelta(seconds=span * rng.uniform(0.05, 0.95))
        customer = rng.choice(owned[rep.userid])
        contract = Contract(
            opportunity_id=None,
            customer_id=customer.id,
            amount=_money(rng, 60000, 220000),
            signed_at=signed,
            signed_by=rep.userid,
        )
        added.append(contract)
        return contract

    for region in REGIONS:
        team = [rep for rep in reps[region] if owned.get(rep.userid)]
        if not team:
            continue
        ids = {rep.userid for rep in team}
        mine = [c for c in contracts if c.signed_by in ids]
        this = sum((c.amount for c in mine if this_start <= c.signed_at <= now), Decimal(0))
        last = sum((c.amount for c in mine if last_start <= c.signed_at < last_end), Decimal(0))
        for rep in rng.sample(team, min(len(team), rng.randint(5, 7))):
            this += sign(rep, this_start, now).amount
        growth = Decimal(str(round(rng.uniform(1.06, 1.2), 2)))
        while last * growth < this:
            last += sign(rng.choice(team), last_start, last_end).amount
        while this < last * growth:
            this += sign(rng.choice(team), this_start, now).amount
    return added


def _approver(role: str, requester: User, users: list[User]) -> str:
    """The supervisor is the requester's manager; the other roles are whoever holds them."""
    if role == Role.SUPERVISOR and requester.manager_userid:
        return requester.manager_userid
    for user in users:
        if user.role == role:
            return user.userid
    return DIRECTOR[0]
