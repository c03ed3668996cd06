"""A second company, not in the corpus (other regions, industries, names) and sentences written apart from the
engine's rules, with what each means: used by test_understanding_general.py and test_understanding_model.py."""

from __future__ import annotations

from typing import Any

WORLD_B: dict[str, Any] = {
    "today": "2027-03-10 09:15 Asia/Shanghai",  # a Wednesday
    "people": [
        {"userid": "liwei", "name": "李伟", "role": "销售", "region": "西南", "manager": "wanggang"},
        {"userid": "chenjing", "name": "陈静", "role": "销售", "region": "西南", "manager": "wanggang"},
        {"userid": "zhaolei", "name": "赵磊", "role": "销售", "region": "华北", "manager": "sunli"},
        {"userid": "wanggang", "name": "王刚", "role": "销售主管", "region": "西南", "manager": "dong"},
        {"userid": "sunli", "name": "孙丽", "role": "销售主管", "region": "华北", "manager": "dong"},
        {"userid": "xugong", "name": "徐工", "role": "技术负责人", "region": "总部", "manager": "dong"},
        {"userid": "fangli", "name": "方莉", "role": "财务经理", "region": "总部", "manager": "dong"},
        {"userid": "dong", "name": "董总", "role": "总经理", "region": "总部", "manager": ""},
    ],
    "customers": [
        {
            "name": "成都蓝天环保设备有限公司",
            "owner": "liwei",
            "contact": "罗经理",
            "phone": "13800000001",
            "address": "成都市高新区天府大道100号",
        },
        {"name": "重庆山城重型机械股份有限公司", "owner": "liwei", "contact": "邓工", "phone": "13800000002"},
        {"name": "绵阳九洲光电科技有限公司", "owner": "liwei", "contact": "杨总", "phone": "13800000003"},
        {"name": "贵阳黔丰食品有限公司", "owner": "chenjing", "contact": "龙主任", "phone": "13800000004"},
        {"name": "天津渤海精细化工有限公司", "owner": "zhaolei", "contact": "刘主任", "phone": "13800000005"},
    ],
    "opportunities": [
        {
            "customer": "成都蓝天环保设备有限公司",
            "name": "除尘系统升级",
            "amount": 300000,
            "stage": "方案制定",
        },
        {
            "customer": "成都蓝天环保设备有限公司",
            "name": "废气处理二期",
            "amount": 800000,
            "stage": "初步接洽",
        },
        {
            "customer": "重庆山城重型机械股份有限公司",
            "name": "液压站更换",
            "amount": 120000,
            "stage": "线索分配",
        },
        {
            "customer": "绵阳九洲光电科技有限公司",
            "name": "洁净车间空调",
            "amount": 450000,
            "stage": "方案制定",
        },
        {"customer": "贵阳黔丰食品有限公司", "name": "冷库制冷机组", "amount": 200000, "stage": "初步接洽"},
        {"customer": "天津渤海精细化工有限公司", "name": "反应釜温控", "amount": 150000, "stage": "方案制定"},
    ],
    "visits": [
        {"customer": "成都蓝天环保设备有限公司", "by": "liwei", "note": "初访"},
        {"customer": "绵阳九洲光电科技有限公司", "by": "liwei", "note": "技术交流"},
        {"customer": "天津渤海精细化工有限公司", "by": "zhaolei", "note": "初访"},
    ],
    "quotes": [{"opportunity": "洁净车间空调", "amount": 420000}],
}

LANTIAN = "成都蓝天环保设备有限公司"
SHANCHENG = "重庆山城重型机械股份有限公司"
JIUZHOU = "绵阳九洲光电科技有限公司"

MESSAGES: list[dict[str, Any]] = [
    {
        "who": "liwei",
        "text": "下午在蓝天开了个会，罗经理想把除尘系统换成布袋式的，下周四再约技术过去",
        "intent": "visit",
        "expect": {"customer": LANTIAN, "note_has": ["布袋"], "offer_followup": "next thu"},
    },
    {
        "who": "liwei",
        "text": "刚见完山城的邓工 液压站的事他们还在走流程",
        "intent": "visit",
        "expect": {"customer": SHANCHENG, "note_has": ["流程"]},
    },
    {
        "who": "liwei",
        "text": "昨天去九洲拜访了杨总，对方希望四月初能出方案",
        "intent": "visit",
        "expect": {"customer": JIUZHOU, "note_has": ["方案"]},
    },
    {
        "who": "liwei",
        "text": "拜访，山城，邓工说液压站下个季度再定。",
        "intent": "visit",
        "expect": {"customer": SHANCHENG, "note_has": ["下个季度"]},
    },
    {
        "who": "liwei",
        "text": "周四下午两点提醒我给九洲杨总回个电话",
        "intent": "followup",
        "expect": {"customer": JIUZHOU, "due": "this thu 14:00", "title_has": ["回个电话"]},
    },
    {
        "who": "liwei",
        "text": "后天记得去蓝天拿合同",
        "intent": "followup",
        "expect": {"customer": LANTIAN, "due": "+2d", "title_has": ["拿合同"]},
    },
    {
        "who": "liwei",
        "text": "别忘了下周一上午十点约山城邓工看现场",
        "intent": "followup",
        "expect": {"customer": SHANCHENG, "due": "next mon 10:00", "title_has": ["看现场"]},
    },
    {
        "who": "liwei",
        "text": "山城那边有个新需求，要做一套液压管路改造，估计八万",
        "intent": "new_opportunity",
        "expect": {"customer": SHANCHENG, "name_has": ["液压管路"], "amount": 80000},
    },
    {
        "who": "liwei",
        "text": "山城液压站报个价 11万5 含运费",
        "intent": "quote",
        "expect": {"opportunity": "液压站更换", "amount": 115000, "note_has": ["运费"]},
    },
    {
        "who": "liwei",
        "text": "蓝天的废气处理二期黄了，客户自己找了家本地公司",
        "intent": "lost",
        "expect": {"opportunity": "废气处理二期", "reason_has": ["本地公司"]},
    },
    {
        "who": "liwei",
        "text": "废气处理二期推进到方案制定",
        "intent": "advance",
        "expect": {"opportunity": "废气处理二期", "stage": "方案制定"},
    },
    {
        "who": "liwei",
        "text": "蓝天的除尘项目签了，三十万",
        "intent": "contract",
        "expect": {"opportunity": "除尘系统升级", "amount": 300000},
    },
    {
        "who": "liwei",
        "text": "九洲的预付款今天到账了 20万",
        "intent": "payment",
        "expect": {"customer": JIUZHOU, "amount": 200000},
    },
    {
        "who": "liwei",
        "text": "邓工手机号多少",
        "intent": "query.contact",
        "expect": {"answer_has": ["13800000002"]},
    },
    {
        "who": "liwei",
        "text": "蓝天的地址是啥",
        "intent": "query.customer",
        "expect": {"answer_has": ["天府大道100号"]},
    },
    {"who": "liwei", "text": "我名下有哪些客户", "intent": "query.my_customers"},
    {"who": "liwei", "text": "这个月我回了多少款", "intent": "query.my_numbers"},
    {"who": "liwei", "text": "明天有啥安排", "intent": "query.my_todo"},
    {"who": "liwei", "text": "黔丰的电话多少", "intent": "query.contact", "scope": True},
    {"who": "liwei", "text": "客户 lantian", "intent": "query.customer", "expect": {"customer": LANTIAN}},
    {"who": "liwei", "text": "客户 jzgd", "intent": "query.customer", "expect": {"customer": JIUZHOU}},
    {"who": "liwei", "text": "客户 山成", "intent": "query.customer", "expect": {"did_you_mean": SHANCHENG}},
    {"who": "liwei", "text": "谢啦", "intent": "smalltalk"},
    {"who": "liwei", "text": "收到", "intent": "smalltalk"},
    {"who": "liwei", "text": "怎么设置跟进提醒", "intent": "help"},
    {"who": "wanggang", "text": "今天组里都忙了些啥", "intent": "query.team_today"},
    {"who": "wanggang", "text": "陈静今天去了哪些客户", "intent": "query.rep_today"},
    {
        "who": "wanggang",
        "text": "把山城转给陈静",
        "intent": "reassign",
        "expect": {"customer": SHANCHENG, "to": "chenjing"},
    },
    {"who": "wanggang", "text": "待我审批的报价有哪些", "intent": "query.pending_quotes"},
    {
        "who": "dong",
        "text": "西南区这个月业绩怎么样",
        "intent": "query.region",
        "expect": {"answer_has": ["西南"]},
    },
    {
        "who": "dong",
        "text": "同意 #{quote:洁净车间空调}",
        "intent": "approve",
        "expect": {"quote": "洁净车间空调"},
    },
    {
        "who": "zhaolei",
        "text": "渤海化工那边的反应釜温控丢了，价格没谈拢",
        "intent": "lost",
        "expect": {"opportunity": "反应釜温控", "reason_has": ["价格没谈拢"]},
    },
    {"who": "zhaolei", "text": "客户 蓝天", "intent": "query.customer", "scope": True},
    {
        "who": "liwei",
        "text": "蓝天的单子到哪一步了",
        "intent": "query.customer",
        "expect": {"customer": LANTIAN},
    },
    {"who": "liwei", "text": "我这周的拜访计划", "intent": "query.my_todo"},
    {
        "who": "liwei",
        "text": "把蓝天的除尘系统升级推进到报价审批",
        "intent": "advance",
        "expect": {"opportunity": "除尘系统升级", "stage": "报价审批"},
    },
    {
        "who": "liwei",
        "text": "明天给罗经理打个电话",
        "intent": "followup",
        "expect": {"customer": LANTIAN, "due": "+1d", "title_has": ["打个电话"]},
    },
    {
        "who": "liwei",
        "text": "罗经理的手机",
        "intent": "query.contact",
        "expect": {"answer_has": ["13800000001"]},
    },
    {
        "who": "liwei",
        "text": "九洲杨总微信多少",
        "intent": "query.contact",
        "expect": {"answer_has": ["13800000003"]},
    },
    {
        "who": "liwei",
        "text": "给蓝天报价 29万 含税",
        "intent": "quote",
        "expect": {"amount": 290000, "note_has": ["含税"]},
    },
    {
        "who": "liwei",
        "text": "拜访蓝天 讨论了除尘方案",
        "intent": "visit",
        "expect": {"customer": LANTIAN, "note_has": ["除尘方案"]},
    },
    {
        "who": "liwei",
        "text": "帮我记一下：山城邓工明天下午来公司参观",
        "intent": "followup",
        "expect": {"customer": SHANCHENG, "due": "+1d 14:00", "title_has": ["参观"]},
    },
    {"who": "liwei", "text": "客户 lantain", "intent": "query.customer", "expect": {"did_you_mean": LANTIAN}},
    {"who": "wanggang", "text": "李伟今天干嘛了", "intent": "query.rep_today"},
    {"who": "dong", "text": "华北区这周咋样", "intent": "query.region", "expect": {"answer_has": ["华北"]}},
    {"who": "dong", "text": "我们公司这个月业绩", "intent": "query.my_numbers"},
    {"who": "liwei", "text": "九洲的报价批下来没有", "intent": "query.quote_status"},
    {
        "who": "liwei",
        "text": "帮我约一下下周二去山城",
        "intent": "followup",
        "expect": {"customer": SHANCHENG, "due": "next tue"},
    },
    {
        "who": "liwei",
        "text": "蓝天的废气处理二期丢单了，客户预算取消",
        "intent": "lost",
        "expect": {"opportunity": "废气处理二期", "reason_has": ["客户预算取消"]},
    },
    {
        "who": "liwei",
        "text": "山城液压站报价撤回",
        "intent": "unknown",
    },  # the 撤回 command's; never a new quote
]
