"""Where a lead is: provinces and prefecture cities found in a company name or address, or a landline's area
code; and the company-name key that ignores a place prefix (宁波华东精密 = 华东精密).

Pure data and functions. The table covers every province-level division and the prefecture cities a sales
team meets; places are matched longest first with an Aho-Corasick automaton (pyahocorasick).
"""

from __future__ import annotations

from functools import lru_cache

import ahocorasick  # type: ignore[import-not-found]

from services.parsing import normalize_name

# province (short form) -> its prefecture-level cities (short forms, without 市).
PROVINCES: dict[str, str] = {
    "北京": "",
    "天津": "",
    "上海": "",
    "重庆": "",
    "河北": "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水",
    "山西": "太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁",
    "内蒙古": "呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布",
    "辽宁": "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛",
    "吉林": "长春 吉林 四平 辽源 通化 白山 松原 白城 延边",
    "黑龙江": "哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化",
    "江苏": "南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁 昆山 江阴 张家港 常熟",
    "浙江": "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水 义乌 慈溪 余姚",
    "安徽": "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城",
    "福建": "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德 晋江",
    "江西": "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶",
    "山东": "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽",
    "河南": "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店",
    "湖北": "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施",
    "湖南": "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底",
    "广东": "广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮",
    "广西": "南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左",
    "海南": "海口 三亚 儋州",
    "四川": "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳",
    "贵州": "贵阳 六盘水 遵义 安顺 毕节 铜仁",
    "云南": "昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 大理 红河 西双版纳",
    "西藏": "拉萨 日喀则 昌都 林芝",
    "陕西": "西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛",
    "甘肃": "兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南",
    "青海": "西宁 海东",
    "宁夏": "银川 石嘴山 吴忠 固原 中卫",
    "新疆": "乌鲁木齐 克拉玛依 吐鲁番 哈密 喀什 伊犁 昌吉",
    "香港": "",
    "澳门": "",
    "台湾": "",
}

# Landline area codes of the cities above (the ones a sales team meets; unknown codes give no place).
AREA_CODES: dict[str, str] = {
    "010": "北京", "021": "上海", "022": "天津", "023": "重庆", "020": "广州", "024": "沈阳", "025": "南京",
    "027": "武汉", "028": "成都", "029": "西安",
    "0311": "石家庄", "0315": "唐山", "0335": "秦皇岛", "0310": "邯郸", "0312": "保定", "0317": "沧州",
    "0316": "廊坊", "0351": "太原", "0352": "大同", "0471": "呼和浩特", "0472": "包头", "0411": "大连",
    "0412": "鞍山", "0431": "长春", "0432": "吉林", "0451": "哈尔滨", "0459": "大庆",
    "0510": "无锡", "0511": "镇江", "0512": "苏州", "0513": "南通", "0514": "扬州", "0515": "盐城",
    "0516": "徐州", "0517": "淮安", "0518": "连云港", "0519": "常州", "0523": "泰州", "0527": "宿迁",
    "0571": "杭州", "0572": "湖州", "0573": "嘉兴", "0574": "宁波", "0575": "绍兴", "0576": "台州",
    "0577": "温州", "0578": "丽水", "0579": "金华", "0570": "衢州", "0580": "舟山",
    "0551": "合肥", "0553": "芜湖", "0552": "蚌埠", "0555": "马鞍山", "0556": "安庆",
    "0591": "福州", "0592": "厦门", "0595": "泉州", "0596": "漳州", "0594": "莆田",
    "0791": "南昌", "0792": "九江", "0797": "赣州",
    "0531": "济南", "0532": "青岛", "0533": "淄博", "0535": "烟台", "0536": "潍坊", "0537": "济宁",
    "0538": "泰安", "0631": "威海", "0539": "临沂",
    "0371": "郑州", "0379": "洛阳", "0373": "新乡", "0374": "许昌",
    "0717": "宜昌", "0710": "襄阳", "0716": "荆州",
    "0731": "长沙", "0733": "株洲", "0732": "湘潭", "0734": "衡阳", "0730": "岳阳",
    "0755": "深圳", "0756": "珠海", "0754": "汕头", "0757": "佛山", "0750": "江门", "0759": "湛江",
    "0752": "惠州", "0769": "东莞", "0760": "中山", "0758": "肇庆", "0763": "清远",
    "0771": "南宁", "0772": "柳州", "0773": "桂林", "0779": "北海", "0898": "海口",
    "0816": "绵阳", "0838": "德阳", "0831": "宜宾", "0851": "贵阳", "0852": "遵义", "0871": "昆明",
    "0891": "拉萨", "0917": "宝鸡", "0910": "咸阳", "0931": "兰州", "0971": "西宁", "0951": "银川",
    "0991": "乌鲁木齐",
}  # fmt: skip

_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")


@lru_cache(maxsize=1)
def _city_province() -> dict[str, str]:
    out: dict[str, str] = {}
    for province, cities in PROVINCES.items():
        out[province] = province  # 北京, 上海: the municipality is its own city
        for city in cities.split():
            out.setdefault(city, province)
    return out


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    """Every spelling of every place → (place, province): 浙江, 浙江省, 宁波, 宁波市, 广西壮族自治区, …"""
    automaton = ahocorasick.Automaton()
    for place, province in _city_province().items():
        for suffix in ("", *_SUFFIXES):
            spelling = place + suffix
            if len(spelling) >= 2:
                automaton.add_word(spelling, (spelling, place, province))
    automaton.make_automaton()
    return automaton


def places_in(text: str) -> list[tuple[str, str]]:
    """(place, province) for every place named in `text`, in order, longest spelling at each position."""
    if not text:
        return []
    found: dict[int, tuple[int, str, str]] = {}  # start -> (length, place, province)
    for end, (spelling, place, province) in _automaton().iter(text):
        start = end - len(spelling) + 1
        if start not in found or found[start][0] < len(spelling):
            found[start] = (len(spelling), place, province)
    out: list[tuple[str, str]] = []
    covered = -1
    for start in sorted(found):
        length, place, province = found[start]
        if start > covered:
            out.append((place, province))
            covered = start + length - 1
    return out


def place_of_phone(phone_norm: str | None) -> tuple[str, str] | None:
    """(city, province) for a landline's area code (`0574-87654321`); None for mobiles and unknown codes."""
    if not phone_norm or "-" not in phone_norm:
        return None
    city = AREA_CODES.get(phone_norm.split("-", 1)[0])
    if city is None:
        return None
    return city, _city_province()[city]


def strip_place_prefix(name: str) -> str:
    """The name without leading place words: 浙江省宁波市华东精密 → 华东精密 (a name that is only a place is kept)."""
    spellings = _spellings()
    longest = max(len(s) for s in spellings)
    rest = name.strip()
    while True:
        match = next(
            (rest[:k] for k in range(min(longest, len(rest) - 1), 1, -1) if rest[:k] in spellings), None
        )
        if match is None:
            return rest
        rest = rest[len(match) :]


@lru_cache(maxsize=1)
def _spellings() -> frozenset[str]:
    return frozenset(spelling for _, (spelling, _, _) in _automaton().items())


def company_key(name: str) -> str:
    """The duplicate-check key of a company name: `normalize_name` (punctuation, 有限公司 …) without the
    province/city prefix, so 宁波华东精密有限公司, 浙江华东精密 and 华东精密 are one company."""
    base = normalize_name(name)
    # Suffixes after a place prefix too: "(宁波)华东精密有限公司" → "宁波华东精密" → "华东精密".
    return strip_place_prefix(base) or base
