"""The `leads:` and `pool:` sections of the business configuration (see services/config.py).

    leads:
      regions:                 # region → provinces and cities that belong to it
        华东: [上海, 江苏, 浙江, 安徽, 山东, 福建, 江西]
        华南: [广东, 广西, 海南]
      sources:                 # source → its default region when the lead names no place (null: none)
        展会: 华东
        官网: null
      rules:                   # within a region, an industry goes to these reps first (in order)
        - region: 华东
          industry: 机械
          reps: [rep_e1]
      daily_cap: 10            # leads per rep per day before the round-robin skips them
      remind_after_hours: 4    # working hours without 接单 → one reminder
      reassign_after_hours: 24 # working hours without 接单 → re-assigned, supervisor told once
    pool:
      days_without_followup: {明星: 30, 成长: 45, 稳定: 60, 休眠: 60, 潜在: 30}
      days_without_opportunity: {}   # per segment, optional (e.g. 潜在: 90)
      warn_working_days: 3
      daily_claims: 3
      max_holding: 200
      reclaim_block_days: 7
      extension_days: 7
      extensions_per_quarter: 2

Messages are Chinese; services/config.py maps them to the file's line.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

POOL_SEGMENTS: tuple[str, ...] = ("明星", "成长", "稳定", "休眠", "潜在")
DEFAULT_SOURCES: dict[str, str | None] = {
    "展会": None,
    "官网": None,
    "转介绍": None,
    "电话": None,
    "其他": None,
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _word(value: str, what: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{what}不能为空")
    if re.search(r"\s", value):
        raise ValueError(f"{what}「{value}」里不能有空格")
    return value


class LeadRule(_Model):
    """An industry rule: in `region`, leads of `industry` go round-robin among `reps` first."""

    region: str
    industry: str
    reps: list[str] = Field(min_length=1)

    @field_validator("region", "industry")
    @classmethod
    def _words(cls, value: str) -> str:
        return _word(value, "区域或行业")

    @field_validator("reps")
    @classmethod
    def _reps(cls, value: list[str]) -> list[str]:
        return [_word(v, "销售账号").lower() for v in value]


class LeadsConfig(_Model):
    regions: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "华东": ["上海", "江苏", "浙江", "安徽", "山东", "福建", "江西"],
            "华南": ["广东", "广西", "海南"],
            "华北": ["北京", "天津", "河北", "山西", "内蒙古"],
            "华中": ["河南", "湖北", "湖南"],
            "西南": ["重庆", "四川", "贵州", "云南", "西藏"],
            "西北": ["陕西", "甘肃", "青海", "宁夏", "新疆"],
            "东北": ["辽宁", "吉林", "黑龙江"],
        }
    )
    sources: dict[str, str | None] = Field(default_factory=lambda: dict(DEFAULT_SOURCES))
    fallback_region: str | None = None
    rules: list[LeadRule] = Field(default_factory=list)
    daily_cap: int = Field(default=10, ge=1)
    remind_after_hours: int = Field(default=4, ge=1)
    reassign_after_hours: int = Field(default=24, ge=1)
    api_per_minute: int = Field(default=30, ge=1, description="POST /api/leads per source per minute")

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        seen: dict[str, str] = {}
        for region, places in value.items():
            _word(region, "区域名称")
            for place in places:
                place = _word(str(place), "地名")
                if place in seen and seen[place] != region:
                    raise ValueError(f"地名「{place}」同时写在「{seen[place]}」和「{region}」里，请只留一处")
                seen[place] = region
        return value

    @model_validator(mode="after")
    def _known_regions(self) -> LeadsConfig:
        known = set(self.regions)
        for source, region in self.sources.items():
            _word(source, "来源名称")
            if region is not None and region not in known:
                raise ValueError(
                    f"来源「{source}」的默认区域「{region}」不在 regions 里（现有：{'、'.join(self.regions)}）"
                )
        if self.fallback_region is not None and self.fallback_region not in known:
            raise ValueError(f"fallback_region「{self.fallback_region}」不在 regions 里")
        for rule in self.rules:
            if rule.region not in known:
                raise ValueError(
                    f"规则里的区域「{rule.region}」不在 regions 里（现有：{'、'.join(self.regions)}）"
                )
        if self.reassign_after_hours <= self.remind_after_hours:
            raise ValueError("reassign_after_hours 必须大于 remind_after_hours")
        return self

    def region_of_place(self, place: str) -> str | None:
        for region, places in self.regions.items():
            if place in places:
                return region
        return None


def _segment_days(value: Any) -> Any:
    if isinstance(value, dict):
        for key in value:
            if key not in POOL_SEGMENTS:
                raise ValueError(f"未知的客户分层「{key}」（可选：{'、'.join(POOL_SEGMENTS)}）")
    return value


_FOLLOWUP_DAYS: dict[str, int | None] = {"明星": 30, "成长": 45, "稳定": 60, "休眠": 60, "潜在": 30}


class PoolConfig(_Model):
    enabled: bool = True
    days_without_followup: dict[str, int | None] = Field(default_factory=lambda: dict(_FOLLOWUP_DAYS))
    days_without_opportunity: dict[str, int | None] = Field(default_factory=dict)
    warn_working_days: int = Field(default=3, ge=1)
    daily_claims: int = Field(default=3, ge=1)
    max_holding: int = Field(default=200, ge=1)
    reclaim_block_days: int = Field(default=7, ge=0)
    extension_days: int = Field(default=7, ge=1)
    extensions_per_quarter: int = Field(default=2, ge=0)

    @field_validator("days_without_followup", "days_without_opportunity", mode="before")
    @classmethod
    def _segments(cls, value: Any) -> Any:
        return _segment_days(value)

    @field_validator("days_without_followup", "days_without_opportunity")
    @classmethod
    def _positive(cls, value: dict[str, int | None]) -> dict[str, int | None]:
        for key, days in value.items():
            if days is not None and days < 1:
                raise ValueError(f"「{key}」的天数必须至少为 1（不回收请写 null）")
        return value

    def followup_days(self, segment: str | None) -> int | None:
        return self.days_without_followup.get(segment or "潜在")

    def opportunity_days(self, segment: str | None) -> int | None:
        return self.days_without_opportunity.get(segment or "潜在")
