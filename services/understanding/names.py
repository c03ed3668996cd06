"""How people shorten the names they type: abbreviations, pinyin and initials of company and project names.

Pure functions over one name at a time (cached), used to build the per-company lexicon (lexicon.py).
Nothing here knows any particular company: the vocabularies below are general Chinese business words
(legal forms, industries, places) that say nothing about which customer is meant.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.parsing.text import normalize_name, normalize_text


def _words(s: str) -> list[str]:
    return s.split()


# Provinces, regions and larger cities: a name's leading place is dropped to find its short name
# (苏州金桥精工机械 → 金桥…), and a place alone never names a customer.
PLACES: frozenset[str] = frozenset(
    _words(
        """
    北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 四川 贵州
    云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门 华东 华南 华北 华中 华西 西南 西北 东北 中国 全国
    苏州 无锡 常州 南京 南通 扬州 镇江 泰州 盐城 淮安 徐州 连云港 宿迁 昆山 常熟 江阴 张家港 太仓 吴江 宜兴
    杭州 宁波 温州 嘉兴 湖州 绍兴 金华 台州 衢州 舟山 丽水 义乌 慈溪 余姚 海宁 诸暨 乐清 瑞安
    合肥 芜湖 蚌埠 马鞍山 安庆 滁州 福州 厦门 泉州 漳州 莆田 晋江 南昌 赣州 九江 济南 青岛 烟台 潍坊 淄博 威海
    临沂 济宁 日照 东营 郑州 洛阳 新乡 南阳 武汉 宜昌 襄阳 十堰 长沙 株洲 湘潭 岳阳 常德 衡阳
    广州 深圳 东莞 佛山 珠海 中山 惠州 江门 汕头 肇庆 湛江 清远 顺德 南宁 柳州 桂林 海口 三亚
    成都 绵阳 德阳 宜宾 贵阳 遵义 昆明 西安 宝鸡 咸阳 兰州 西宁 银川 乌鲁木齐 拉萨 呼和浩特 包头
    石家庄 唐山 保定 廊坊 沧州 邯郸 太原 大同 大连 沈阳 鞍山 长春 吉林 哈尔滨 大庆
    """
    )
)
_PLACE_SUFFIX = "省市县区"

# Words shared by many company or project names: alone they do not name anything.
GENERIC_WORDS: frozenset[str] = frozenset(
    _words(
        """
    有限 公司 有限公司 股份 集团 控股 科技 技术 机械 设备 电子 化工 纺织 物流 精工 精密 工业 实业 贸易 商贸 工贸 制造
    电气 电器 自动化 材料 新材料 环保 能源 新能源 食品 医药 药业 软件 信息 网络 工程 建设 建筑 建材 塑胶 塑料 五金
    汽车 汽配 配件 零部件 制品 包装 印刷 服装 服饰 家具 仪器 仪表 控制 系统 装备 重工 钢铁 钢材 金属 模具 光电 通信
    国际 发展 投资 服务 管理 咨询 生物 机电 动力 智能 数控 企业 总厂 分公司 研究所 责任 有限责任 中心 工厂 厂 线
    改造 项目 节能 升级 采购 年度 框架 一期 二期 三期 扩建 新建 维护 维保 方案 生产线 产线 设计 安装 调试 合同
    """
    )
)

# Words that say what trade a company is in: typed next to a name (汇丰冶金), they must agree with the
# customer's own name, or the sender means another company (see resolve.py, foreign_words).
TRADES: frozenset[str] = frozenset(
    _words(
        """
    科技 机械 设备 电子 化工 纺织 物流 精工 精密 贸易 商贸 电气 电器 自动化 材料 新材料 环保 能源 新能源 食品
    医药 药业 软件 建材 塑胶 塑料 五金 汽车 汽配 零部件 包装 印刷 服装 服饰 家具 仪器 仪表 装备 重工 钢铁 钢材
    金属 模具 光电 通信 生物 机电 动力 数控 冶金 矿业 橡胶 陶瓷 玻璃 造纸 电力 电缆 线缆 半导体 化学 化纤 石化
    光伏 照明 农业 水务 船舶 制药 纸业 铝业 铜业 钢构 轴承 阀门 泵业 电机 地产 置业 物业 传媒 文化 酒店 餐饮
    """
    )
)

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_RUN = re.compile(r"[a-z0-9]+")


def is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch))


def _strip_place(core: str) -> tuple[str, str]:
    """(leading place, rest): 苏州金桥精工机械 → (苏州, 金桥精工机械); 深圳市华强 → (深圳市, 华强)."""
    for size in (4, 3, 2):
        head = core[:size]
        if head in PLACES:
            rest = core[size:]
            if rest[:1] and rest[0] in _PLACE_SUFFIX:
                head, rest = head + rest[0], rest[1:]
            if len(rest) >= 2:
                return head, rest
    if len(core) >= 5 and core[2] in _PLACE_SUFFIX:  # an unlisted 2-character city: 某某市…
        return core[:3], core[3:]
    return "", core


def _cuts(s: str) -> list[int]:
    """Positions where a substring may start or end: never inside a run of Latin letters or digits, nor inside
    a known word (精密, 机械, 苏州): 华东精 is not a way to write 华东精密, and would match 华东精工 typed for
    another company."""
    inside: set[int] = set()
    for m in _LATIN_RUN.finditer(s):
        inside.update(range(m.start() + 1, m.end()))
    i = 0
    while i < len(s):
        for size in (4, 3, 2):
            word = s[i : i + size]
            if len(word) == size and (word in GENERIC_WORDS or word in PLACES):
                inside.update(range(i + 1, i + size))
                i += size
                break
        else:
            i += 1
    return [i for i in range(len(s) + 1) if i not in inside]


def _is_generic(s: str) -> bool:
    if s in GENERIC_WORDS or s in PLACES:
        return True
    # Made only of generic words and places (机械设备, 苏州机械): still says nothing.
    return _only_generic(s)


@lru_cache(maxsize=65536)
def _only_generic(s: str) -> bool:
    if not s:
        return True
    for size in range(min(len(s), 4), 0, -1):
        head = s[:size]
        if (head in GENERIC_WORDS or head in PLACES or head in {"有", "限", "市", "省"}) and _only_generic(
            s[size:]
        ):
            return True
    return False


@lru_cache(maxsize=16384)
def customer_aliases(name: str) -> tuple[tuple[str, int], ...]:
    """(alias, weight) for a company name. Weight: 3 full name, 2 its short name's prefixes, 1 inner 3-4 character parts.

    The short name is the normalised name without its leading place: people write 金桥, 金桥精工 or
    苏州金桥 for 苏州金桥精工机械有限公司, not 桥精. Inner substrings of 3+ characters are kept as weaker
    aliases (精工机械 alone is generic and dropped).
    """
    core = normalize_name(name)
    out: dict[str, int] = {}

    def add(alias: str, weight: int, *, always: bool = False) -> None:
        if len(alias) >= 2 and (always or not _is_generic(alias)) and not alias.isdigit():
            out[alias] = max(out.get(alias, 0), weight)

    add(core, 3, always=True)  # 华东精密 is made of generic words and still names its customer
    add(normalize_text(name).lower(), 3, always=True)
    place, short = _strip_place(core)
    starts = {0, len(place)} if place else {0}
    if not place and len(core) >= 5:
        starts.add(2)  # an unknown 2-character place: 某某金桥精工 → 金桥…
    cuts = _cuts(core)
    for start in starts:
        if start not in cuts:
            continue
        for end in cuts:
            if end - start >= 2:
                add(core[start:end], 2)
    for i in cuts:
        for j in cuts:
            if 3 <= j - i <= 4:
                add(core[i:j], 1)
    return tuple(out.items())


@lru_cache(maxsize=16384)
def opportunity_aliases(name: str) -> tuple[tuple[str, int], ...]:
    """(alias, weight) for a project name: the whole name (3), its prefixes (2) and 3+ character parts (1)."""
    base = normalize_name(name) or name.lower()
    out: dict[str, int] = {}

    def add(alias: str, weight: int, *, always: bool = False) -> None:
        if len(alias) >= 2 and (always or not _is_generic(alias)):
            out[alias] = max(out.get(alias, 0), weight)

    add(base, 3, always=True)
    cuts = _cuts(base)
    for end in cuts:
        if end >= 2:
            add(base[:end], 2)
    for i in cuts:
        for j in cuts:
            if 3 <= j - i <= 4:
                add(base[i:j], 1)
    return tuple(out.items())


@lru_cache(maxsize=65536)
def syllables(s: str) -> tuple[str, ...]:
    """Tone-less pinyin, one syllable per character (non-Chinese characters kept as they are).

    pypinyin is imported here, on first use: loading its phrase dictionary takes about a second, which the
    server's start (bot/app.py imports this package for ModelClient) should not pay.
    """
    from pypinyin import Style, lazy_pinyin

    out: list[str] = []
    for run in re.findall(r"[\u4e00-\u9fff]+|[^\u4e00-\u9fff]", s):
        if is_cjk(run[0]):
            out.extend(lazy_pinyin(run, style=Style.NORMAL, errors="default"))
        else:
            out.append(run)
    return tuple(out)


# A contact written as a surname and a form of address: 吴工, 陆经理, 沈总, 黄生, 王姐.
CONTACT_TITLES = (
    "经理",
    "总监",
    "总",
    "工",
    "主任",
    "科长",
    "处长",
    "部长",
    "厂长",
    "老板",
    "老师",
    "先生",
    "女士",
    "小姐",
    "姐",
    "哥",
    "生",
    "董",
    "师傅",
)


def contact_variants(contact: str) -> tuple[str, ...]:
    """The contact as stored, plus surname + another title when it is written that way (陆经理 → 陆总)."""
    contact = contact.strip()
    if not contact:
        return ()
    out = [contact.lower()]
    for title in CONTACT_TITLES:
        if contact.endswith(title) and len(contact) == len(title) + 1:
            surname = contact[0]
            out.extend(surname + other for other in CONTACT_TITLES if other != title and len(other) <= 2)
            break
    return tuple(out)
