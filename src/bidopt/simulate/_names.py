"""Vocabularies of the simulated shop: categories, keyword parts, crowds, regions, hours.

Every name here must stay GBK-encodable: ZTC exports are GBK and ``write_shop`` writes them
that way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Category:
    """One product category and the words buyers search it with."""

    name: str
    price: float  # typical price of the category
    heads: tuple[str, ...]  # 4 category (head) words, ring 0
    attrs: tuple[str, ...]  # 12 attributes for precise and long-tail words
    suffixes: tuple[str, ...]  # 8 trailing qualifiers


_PREFIXES = ("2026新款", "韩版", "ins风", "百搭", "高级感", "网红同款")

CATEGORIES: tuple[Category, ...] = (
    Category("连衣裙", 169.0, ("连衣裙", "连衣裙女", "裙子", "长裙"),
             ("碎花", "雪纺", "针织", "法式", "黑色", "白色", "修身", "复古", "蕾丝", "真丝", "格子", "吊带"),
             ("夏", "春秋", "中长款", "短款", "收腰", "显瘦", "气质", "宽松")),
    Category("T恤", 59.0, ("T恤", "T恤女", "短袖", "上衣女"),
             ("纯棉", "白色", "黑色", "印花", "宽松", "短款", "条纹", "圆领", "V领", "冰丝", "刺绣", "字母"),
             ("夏", "半袖", "打底", "百搭", "学生", "潮牌", "简约", "显瘦")),
    Category("衬衫", 99.0, ("衬衫", "衬衫女", "衬衣", "雪纺衫"),
             ("白色", "条纹", "格子", "真丝", "法式", "长袖", "短袖", "雪纺", "亚麻", "牛仔", "蓝色", "印花"),
             ("春", "夏", "职业", "宽松", "设计感", "小众", "通勤", "外搭")),
    Category("牛仔裤", 129.0, ("牛仔裤", "牛仔裤女", "裤子女", "直筒裤"),
             ("高腰", "直筒", "阔腿", "破洞", "浅色", "黑色", "微喇", "烟管", "九分", "萝卜", "弹力", "复古"),
             ("显瘦", "春秋", "夏季薄款", "宽松", "垂感", "老爹", "梨形身材", "百搭")),
    Category("半身裙", 99.0, ("半身裙", "半身裙女", "裙子女", "短裙"),
             ("百褶", "A字", "包臀", "开叉", "高腰", "针织", "牛仔", "格子", "鱼尾", "缎面", "黑色", "白色"),
             ("中长款", "夏", "春秋", "显瘦", "垂感", "通勤", "小个子", "长款")),
    Category("卫衣", 119.0, ("卫衣", "卫衣女", "连帽卫衣", "卫衣外套"),
             ("加绒", "连帽", "圆领", "宽松", "短款", "拉链", "灰色", "印花", "字母", "纯棉", "白色", "撞色"),
             ("秋冬", "春秋", "薄款", "潮", "情侣", "学生", "百搭", "oversize")),
    Category("外套", 259.0, ("外套", "外套女", "夹克", "大衣"),
             ("风衣", "羊毛", "西装", "棒球服", "皮衣", "牛仔", "羽绒", "短款", "长款", "双面呢", "格子", "工装"),
             ("秋冬", "春秋", "宽松", "高级感", "小个子", "气质", "休闲", "加厚")),
    Category("针织衫", 139.0, ("针织衫", "毛衣女", "开衫", "毛衣"),
             ("羊绒", "V领", "高领", "镂空", "条纹", "宽松", "短款", "马海毛", "纯色", "慵懒风", "麻花", "圆领"),
             ("秋冬", "春秋", "外搭", "打底", "加厚", "薄款", "内搭", "软糯")),
    Category("阔腿裤", 109.0, ("阔腿裤", "阔腿裤女", "休闲裤", "西装裤"),
             ("高腰", "垂感", "冰丝", "西装", "直筒", "雪纺", "亚麻", "黑色", "灰色", "九分", "拖地", "束脚"),
             ("夏季", "春秋", "显瘦", "宽松", "薄款", "通勤", "小个子", "百搭")),
    Category("运动鞋", 299.0, ("运动鞋", "运动鞋女", "跑步鞋", "休闲鞋"),
             ("透气", "减震", "网面", "厚底", "老爹", "白色", "轻便", "气垫", "复古", "黑色", "碳板", "软底"),
             ("夏季", "春秋", "学生", "百搭", "潮", "女款", "男款", "情侣")),
    Category("帆布鞋", 89.0, ("帆布鞋", "帆布鞋女", "板鞋", "小白鞋"),
             ("高帮", "低帮", "厚底", "白色", "黑色", "复古", "一脚蹬", "增高", "撞色", "松糕", "帆布", "硫化"),
             ("学生", "百搭", "春秋", "夏季", "韩版", "休闲", "透气", "潮")),
    Category("双肩包", 149.0, ("双肩包", "背包女", "书包", "旅行包"),
             ("大容量", "轻便", "防水", "尼龙", "帆布", "真皮", "电脑", "黑色", "复古", "迷你", "时尚", "多功能"),
             ("学生", "通勤", "旅行", "女款", "男款", "简约", "韩版", "中学生")),
)

CAMPAIGN_PURPOSES = ("日常推广", "爆款打造", "新品测款", "长尾引流")

# Promotion names that make cheap "entrance" long-tail words (promotion + category word).
PROMOTIONS = ("双十一", "双11", "双十二", "双12", "年货节")

# Word counts a keyword index space is built from (all categories share these sizes).
N_HEADS, N_ATTRS, N_SUFFIXES, N_PREFIXES = 4, 12, 8, len(_PREFIXES)
N_PRECISE = N_ATTRS * N_SUFFIXES
N_LONG_TAIL = N_PREFIXES * N_ATTRS * N_SUFFIXES * (N_SUFFIXES - 1)

# Crowds partition an item's searchers (real ZTC crowds overlap; the simulator ignores that
# so that crowd totals add up to keyword totals). Raw multipliers, normalised per item later.
CROWDS = ("女性25-34岁", "高消费人群", "店铺老访客", "收藏加购人群", "男性", "低价敏感人群")
CROWD_SHARE = np.array([0.30, 0.12, 0.08, 0.06, 0.14, 0.30])
CROWD_CTR = np.array([1.10, 0.95, 1.40, 1.60, 0.60, 1.00])
CROWD_CVR = np.array([1.10, 1.15, 1.70, 2.40, 0.60, 0.75])
CROWD_AOV = np.array([1.00, 1.35, 1.05, 1.00, 0.95, 0.80])

# The 34 provincial-level regions with a rough share of e-commerce searches.
REGION_SHARE: dict[str, float] = {
    "广东": 0.120, "浙江": 0.080, "江苏": 0.080, "山东": 0.060, "上海": 0.050, "北京": 0.045,
    "河南": 0.050, "四川": 0.045, "福建": 0.040, "湖北": 0.035, "湖南": 0.035, "河北": 0.035,
    "安徽": 0.030, "辽宁": 0.025, "陕西": 0.022, "重庆": 0.020, "江西": 0.020, "广西": 0.020,
    "云南": 0.018, "天津": 0.015, "山西": 0.015, "黑龙江": 0.015, "吉林": 0.010, "贵州": 0.012,
    "内蒙古": 0.008, "新疆": 0.008, "甘肃": 0.008, "海南": 0.006, "宁夏": 0.003, "青海": 0.002,
    "西藏": 0.001, "香港": 0.003, "澳门": 0.001, "台湾": 0.002,
}
REGIONS = tuple(REGION_SHARE)
# Where shipping eats the margin (often excluded around big promotions).
REMOTE_REGIONS = ("内蒙古", "甘肃", "青海", "宁夏", "新疆", "西藏")
OVERSEAS_REGIONS = ("香港", "澳门", "台湾")
# Where competing sellers sit; one or two become a campaign's competitor strongholds.
STRONGHOLD_CANDIDATES = ("广东", "浙江", "江苏", "福建", "上海")

# Diurnal search shape (hour 0..23) and conversion by hour.
HOUR_WEIGHT = np.array([
    2.2, 1.3, 0.8, 0.5, 0.4, 0.5, 0.9, 1.8, 3.0, 4.2, 5.0, 5.2,
    4.6, 4.8, 5.0, 4.9, 4.6, 4.3, 4.4, 5.0, 5.8, 6.4, 6.2, 4.2,
])
HOUR_CVR = np.array([
    1.05, 1.00, 0.95, 0.90, 0.90, 0.90, 0.85, 0.85, 0.90, 0.95, 1.00, 1.00,
    0.95, 0.95, 1.00, 1.00, 0.95, 0.95, 1.00, 1.05, 1.10, 1.15, 1.15, 1.10,
])


def _table(field: str) -> np.ndarray:
    """A (category x word) object array of one word list, for vectorised name building."""
    return np.array([list(getattr(c, field)) for c in CATEGORIES], dtype=object)


HEAD_TABLE = _table("heads")
ATTR_TABLE = _table("attrs")
SUFFIX_TABLE = _table("suffixes")
PREFIX_ARRAY = np.array(_PREFIXES, dtype=object)
CATEGORY_NAMES = np.array([c.name for c in CATEGORIES], dtype=object)
CATEGORY_PRICE = np.array([c.price for c in CATEGORIES])


def keyword_names(category: np.ndarray, ring: np.ndarray, slot: np.ndarray) -> np.ndarray:
    """Keyword text for each (category, ring, slot); distinct slots give distinct words.

    ``slot`` indexes the ring's word space: heads (4), precise attr x suffix (96), long tail
    prefix x attr x ordered suffix pair (4032), e.g. "碎花连衣裙 夏",
    "2026新款碎花连衣裙 中长款 收腰".
    """
    head0 = HEAD_TABLE[category, 0]
    head = HEAD_TABLE[category, slot % N_HEADS]
    p_slot = slot % N_PRECISE
    precise = ATTR_TABLE[category, p_slot // N_SUFFIXES] + head0 + " " + SUFFIX_TABLE[
        category, p_slot % N_SUFFIXES]
    l_slot = slot % N_LONG_TAIL
    per_prefix = N_ATTRS * N_SUFFIXES * (N_SUFFIXES - 1)
    prefix, rest = np.divmod(l_slot, per_prefix)
    attr, pair = np.divmod(rest, N_SUFFIXES * (N_SUFFIXES - 1))
    first, second = np.divmod(pair, N_SUFFIXES - 1)
    second = second + (second >= first)
    long_tail = (PREFIX_ARRAY[prefix] + ATTR_TABLE[category, attr] + head0 + " "
                 + SUFFIX_TABLE[category, first] + " " + SUFFIX_TABLE[category, second])
    return np.where(ring == 0, head, np.where(ring == 1, precise, long_tail))


def entrance_names(category: np.ndarray, promotion: np.ndarray) -> np.ndarray:
    """Promotion entrance words such as "双十一连衣裙"."""
    return np.array(PROMOTIONS, dtype=object)[promotion % len(PROMOTIONS)] + HEAD_TABLE[category, 0]
