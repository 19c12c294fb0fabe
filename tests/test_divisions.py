"""Place titles from every province-level division, resolved against the division dataset.

Each expectation was written by hand from what the place is (its province, prefecture,
county and kind), not from the parser's output. A level the title writes is expected as
written; a level it leaves out is expected as its official name, filled from the dataset.
"""

import pytest

from pipeline.db import stable_id
from pipeline.divisions import autonomous_base, spellings
from pipeline.layout import parse_place, resolve_place
from pipeline.records import Town
from pipeline.vocabulary import places_vocabulary

# 国家统计局's two-digit province codes.
CODE = {"北京市": "11", "天津市": "12", "河北省": "13", "山西省": "14", "内蒙古自治区": "15",
        "辽宁省": "21", "吉林省": "22", "黑龙江省": "23", "上海市": "31", "江苏省": "32",
        "浙江省": "33", "安徽省": "34", "福建省": "35", "江西省": "36", "山东省": "37",
        "河南省": "41", "湖北省": "42", "湖南省": "43", "广东省": "44", "广西壮族自治区": "45",
        "海南省": "46", "重庆市": "50", "四川省": "51", "贵州省": "52", "云南省": "53",
        "西藏自治区": "54", "陕西省": "61", "甘肃省": "62", "青海省": "63",
        "宁夏回族自治区": "64", "新疆维吾尔自治区": "65"}

# (title's place, province, prefecture, county, town, kind, official province)
PLACES = [
    # 直辖市: districts and counties with no prefecture
    ("北京市通州区永顺镇", "北京市", None, "通州区", "永顺镇", "镇", "北京市"),
    ("北京市海淀区中关村街道", "北京市", None, "海淀区", "中关村街道", "街道", "北京市"),
    ("北京市朝阳区南磨房地区", "北京市", None, "朝阳区", "南磨房地区", "地区", "北京市"),
    ("天津市蓟州区渔阳镇", "天津市", None, "蓟州区", "渔阳镇", "镇", "天津市"),
    ("上海市浦东新区张江镇", "上海市", None, "浦东新区", "张江镇", "镇", "上海市"),
    ("上海市崇明区城桥镇", "上海市", None, "崇明区", "城桥镇", "镇", "上海市"),
    ("重庆市万州区高笋塘街道", "重庆市", None, "万州区", "高笋塘街道", "街道", "重庆市"),
    ("重庆市城口县葛城街道", "重庆市", None, "城口县", "葛城街道", "街道", "重庆市"),
    ("石柱县南宾街道", "重庆市", None, "石柱县", "南宾街道", "街道", "重庆市"),
    # 省: 市辖区, 县, 县级市, names holding level characters
    ("河北省石家庄市正定县正定镇", "河北省", "石家庄市", "正定县", "正定镇", "镇", "河北省"),
    ("河北省保定市涿州市双塔街道", "河北省", "保定市", "涿州市", "双塔街道", "街道", "河北省"),
    ("山西省临汾市乡宁县昌宁镇", "山西省", "临汾市", "乡宁县", "昌宁镇", "镇", "山西省"),
    ("山西省太原市小店区坞城街道", "山西省", "太原市", "小店区", "坞城街道", "街道", "山西省"),
    ("辽宁省沈阳市和平区南湖街道", "辽宁省", "沈阳市", "和平区", "南湖街道", "街道", "辽宁省"),
    ("辽宁省丹东市宽甸满族自治县宽甸镇", "辽宁省", "丹东市", "宽甸满族自治县", "宽甸镇", "镇",
     "辽宁省"),
    ("黑龙江省哈尔滨市道里区新阳路街道", "黑龙江省", "哈尔滨市", "道里区", "新阳路街道", "街道",
     "黑龙江省"),
    ("黑龙江省大兴安岭地区漠河市北极镇", "黑龙江省", "大兴安岭地区", "漠河市", "北极镇", "镇",
     "黑龙江省"),
    ("齐齐哈尔市梅里斯达斡尔族区雅尔塞镇", "黑龙江省", "齐齐哈尔市", "梅里斯达斡尔族区", "雅尔塞镇",
     "镇", "黑龙江省"),
    ("江苏省徐州市邳州市运河街道", "江苏省", "徐州市", "邳州市", "运河街道", "街道", "江苏省"),
    ("江苏省苏州市昆山市玉山镇", "江苏省", "苏州市", "昆山市", "玉山镇", "镇", "江苏省"),
    ("浙江省宁波市镇海区招宝山街道", "浙江省", "宁波市", "镇海区", "招宝山街道", "街道", "浙江省"),
    ("浙江省杭州市西湖区北山街道", "浙江省", "杭州市", "西湖区", "北山街道", "街道", "浙江省"),
    ("浙江省温州市苍南县灵溪镇", "浙江省", "温州市", "苍南县", "灵溪镇", "镇", "浙江省"),
    ("安徽省黄山市歙县徽城镇", "安徽省", "黄山市", "歙县", "徽城镇", "镇", "安徽省"),
    ("安徽省合肥市肥西县上派镇", "安徽省", "合肥市", "肥西县", "上派镇", "镇", "安徽省"),
    ("福建省厦门市思明区鼓浪屿街道", "福建省", "厦门市", "思明区", "鼓浪屿街道", "街道", "福建省"),
    ("福建省宁德市福安市阳头街道", "福建省", "宁德市", "福安市", "阳头街道", "街道", "福建省"),
    ("江西省赣州市瑞金市象湖镇", "江西省", "赣州市", "瑞金市", "象湖镇", "镇", "江西省"),
    ("江西省抚州市乐安县金竹畲族乡", "江西省", "抚州市", "乐安县", "金竹畲族乡", "民族乡", "江西省"),
    ("山东省菏泽市单县南城街道", "山东省", "菏泽市", "单县", "南城街道", "街道", "山东省"),
    ("山东省青岛市黄岛区长江路街道", "山东省", "青岛市", "黄岛区", "长江路街道", "街道", "山东省"),
    ("甘肃省兰州市永登县城关镇", "甘肃省", "兰州市", "永登县", "城关镇", "镇", "甘肃省"),
    ("湖南省长沙市芙蓉区定王台街道", "湖南省", "长沙市", "芙蓉区", "定王台街道", "街道", "湖南省"),
    ("广东省广州市天河区石牌街道", "广东省", "广州市", "天河区", "石牌街道", "街道", "广东省"),
    ("广东省深圳市南山区粤海街道", "广东省", "深圳市", "南山区", "粤海街道", "街道", "广东省"),
    ("四川省成都市锦江区春熙路街道", "四川省", "成都市", "锦江区", "春熙路街道", "街道", "四川省"),
    ("云南省昆明市五华区华山街道", "云南省", "昆明市", "五华区", "华山街道", "街道", "云南省"),
    ("陕西省西安市雁塔区小寨路街道", "陕西省", "西安市", "雁塔区", "小寨路街道", "街道", "陕西省"),
    ("陕西省延安市宝塔区南市街道", "陕西省", "延安市", "宝塔区", "南市街道", "街道", "陕西省"),
    ("甘肃省武威市凉州区西营镇", "甘肃省", "武威市", "凉州区", "西营镇", "镇", "甘肃省"),
    ("青海省西宁市城中区南川东路街道", "青海省", "西宁市", "城中区", "南川东路街道", "街道", "青海省"),
    # 省直辖县级市, 林区, 特区, and prefectures without counties (儋州, 东莞, 中山, 嘉峪关)
    ("河南省济源市沁园街道", "河南省", None, "济源市", "沁园街道", "街道", "河南省"),
    ("湖北省仙桃市沙嘴街道", "湖北省", None, "仙桃市", "沙嘴街道", "街道", "湖北省"),
    ("湖北省神农架林区松柏镇", "湖北省", None, "神农架林区", "松柏镇", "镇", "湖北省"),
    ("海南省琼海市嘉积镇", "海南省", None, "琼海市", "嘉积镇", "镇", "海南省"),
    ("海南省儋州市那大镇", "海南省", "儋州市", None, "那大镇", "镇", "海南省"),
    ("广东省东莞市虎门镇", "广东省", "东莞市", None, "虎门镇", "镇", "广东省"),
    ("广东省中山市小榄镇", "广东省", "中山市", None, "小榄镇", "镇", "广东省"),
    ("甘肃省嘉峪关市峪泉镇", "甘肃省", "嘉峪关市", None, "峪泉镇", "镇", "甘肃省"),
    ("六枝特区郎岱镇", "贵州省", "六盘水市", "六枝特区", "郎岱镇", "镇", "贵州省"),
    ("新疆维吾尔自治区石河子市新城街道", "新疆维吾尔自治区", None, "石河子市", "新城街道", "街道",
     "新疆维吾尔自治区"),
    # 自治区, 自治州, 自治县, 盟, 旗, 地区, and their short forms
    ("内蒙古自治区锡林郭勒盟正蓝旗上都镇", "内蒙古自治区", "锡林郭勒盟", "正蓝旗", "上都镇", "镇",
     "内蒙古自治区"),
    ("内蒙古自治区锡林郭勒盟阿巴嘎旗那仁宝拉格苏木", "内蒙古自治区", "锡林郭勒盟", "阿巴嘎旗",
     "那仁宝拉格苏木", "苏木", "内蒙古自治区"),
    ("内蒙古呼伦贝尔市鄂温克族自治旗巴彦托海镇", "内蒙古", "呼伦贝尔市", "鄂温克族自治旗",
     "巴彦托海镇", "镇", "内蒙古自治区"),
    ("呼伦贝尔市莫旗尼尔基镇", "内蒙古自治区", "呼伦贝尔市", "莫旗", "尼尔基镇", "镇",
     "内蒙古自治区"),
    ("阿拉善盟阿拉善左旗巴彦浩特镇", "内蒙古自治区", "阿拉善盟", "阿拉善左旗", "巴彦浩特镇", "镇",
     "内蒙古自治区"),
    ("鄂尔多斯市伊金霍洛旗阿勒腾席热镇", "内蒙古自治区", "鄂尔多斯市", "伊金霍洛旗", "阿勒腾席热镇",
     "镇", "内蒙古自治区"),
    ("兴安盟乌兰浩特市和平街道", "内蒙古自治区", "兴安盟", "乌兰浩特市", "和平街道", "街道",
     "内蒙古自治区"),
    ("吉林省延边朝鲜族自治州延吉市进学街道", "吉林省", "延边朝鲜族自治州", "延吉市", "进学街道",
     "街道", "吉林省"),
    ("延边州珲春市靖和街道", "吉林省", "延边州", "珲春市", "靖和街道", "街道", "吉林省"),
    ("恩施州利川市都亭街道", "湖北省", "恩施州", "利川市", "都亭街道", "街道", "湖北省"),
    ("湘西州吉首市乾州街道", "湖南省", "湘西州", "吉首市", "乾州街道", "街道", "湖南省"),
    ("广西壮族自治区南宁市青秀区新竹街道", "广西壮族自治区", "南宁市", "青秀区", "新竹街道", "街道",
     "广西壮族自治区"),
    ("广西百色市靖西市新靖镇", "广西", "百色市", "靖西市", "新靖镇", "镇", "广西壮族自治区"),
    ("广西壮族自治区河池市大化瑶族自治县大化镇", "广西壮族自治区", "河池市", "大化瑶族自治县",
     "大化镇", "镇", "广西壮族自治区"),
    ("海南省保亭黎族苗族自治县保城镇", "海南省", None, "保亭黎族苗族自治县", "保城镇", "镇", "海南省"),
    ("保亭县保城镇", "海南省", None, "保亭县", "保城镇", "镇", "海南省"),
    ("阿坝州马尔康市马尔康镇", "四川省", "阿坝州", "马尔康市", "马尔康镇", "镇", "四川省"),
    ("凉山州西昌市长安街道", "四川省", "凉山州", "西昌市", "长安街道", "街道", "四川省"),
    ("黔东南州凯里市大十字街道", "贵州省", "黔东南州", "凯里市", "大十字街道", "街道", "贵州省"),
    ("贵州省黔南布依族苗族自治州三都水族自治县三合街道", "贵州省", "黔南布依族苗族自治州",
     "三都水族自治县", "三合街道", "街道", "贵州省"),
    ("云南省西双版纳傣族自治州景洪市允景洪街道", "云南省", "西双版纳傣族自治州", "景洪市",
     "允景洪街道", "街道", "云南省"),
    ("怒江州贡山独龙族怒族自治县茨开镇", "云南省", "怒江州", "贡山独龙族怒族自治县", "茨开镇", "镇",
     "云南省"),
    ("西藏自治区拉萨市城关区八廓街道", "西藏自治区", "拉萨市", "城关区", "八廓街道", "街道",
     "西藏自治区"),
    ("西藏自治区林芝市巴宜区八一镇", "西藏自治区", "林芝市", "巴宜区", "八一镇", "镇", "西藏自治区"),
    ("西藏阿里地区噶尔县狮泉河镇", "西藏", "阿里地区", "噶尔县", "狮泉河镇", "镇", "西藏自治区"),
    ("甘肃省临夏州积石山县吹麻滩镇", "甘肃省", "临夏州", "积石山县", "吹麻滩镇", "镇", "甘肃省"),
    ("甘肃省甘南藏族自治州合作市当周街道", "甘肃省", "甘南藏族自治州", "合作市", "当周街道", "街道",
     "甘肃省"),
    ("青海省玉树藏族自治州玉树市结古街道", "青海省", "玉树藏族自治州", "玉树市", "结古街道", "街道",
     "青海省"),
    ("宁夏回族自治区银川市兴庆区凤凰北街街道", "宁夏回族自治区", "银川市", "兴庆区", "凤凰北街街道",
     "街道", "宁夏回族自治区"),
    ("宁夏吴忠市同心县豫海镇", "宁夏", "吴忠市", "同心县", "豫海镇", "镇", "宁夏回族自治区"),
    ("新疆维吾尔自治区昌吉回族自治州玛纳斯县凉州户镇", "新疆维吾尔自治区", "昌吉回族自治州",
     "玛纳斯县", "凉州户镇", "镇", "新疆维吾尔自治区"),
    ("昌吉州玛纳斯县凉州户镇", "新疆维吾尔自治区", "昌吉州", "玛纳斯县", "凉州户镇", "镇",
     "新疆维吾尔自治区"),
    ("凉州户镇", "新疆维吾尔自治区", "昌吉回族自治州", "玛纳斯县", "凉州户镇", "镇",
     "新疆维吾尔自治区"),
    ("新疆塔城地区沙湾市四道河子镇", "新疆", "塔城地区", "沙湾市", "四道河子镇", "镇",
     "新疆维吾尔自治区"),
    ("博州博乐市青得里街道", "新疆维吾尔自治区", "博州", "博乐市", "青得里街道", "街道",
     "新疆维吾尔自治区"),
    ("巴州库尔勒市萨依巴格街道", "新疆维吾尔自治区", "巴州", "库尔勒市", "萨依巴格街道", "街道",
     "新疆维吾尔自治区"),
    ("伊犁州察县察布查尔镇", "新疆维吾尔自治区", "伊犁州", "察县", "察布查尔镇", "镇",
     "新疆维吾尔自治区"),
]


@pytest.mark.parametrize(("text", "province", "prefecture", "county", "town", "kind", "official"),
                         PLACES)
def test_place_titles_across_china(text: str, province: str, prefecture: str | None,
                                   county: str | None, town: str, kind: str,
                                   official: str) -> None:
    place = resolve_place(text)
    assert place.problem is None
    assert place.town is not None
    got = place.town
    assert (got.province, got.prefecture, got.county, got.name, got.kind) == (
        province, prefecture, county, town, kind)
    assert got.code is not None and len(got.code) == 9
    assert got.code[:2] == CODE[official]


def test_table_covers_every_province_level_division() -> None:
    assert {row[6] for row in PLACES} == set(CODE)
    assert len(PLACES) >= 60


@pytest.mark.parametrize(("full", "short"), [
    ("昌吉回族自治州", "昌吉州"), ("黔东南苗族侗族自治州", "黔东南州"), ("怒江傈僳族自治州", "怒江州"),
    ("博尔塔拉蒙古自治州", "博州"), ("巴音郭楞蒙古自治州", "巴州"), ("克孜勒苏柯尔克孜自治州", "克州"),
    ("海西蒙古族藏族自治州", "海西州"), ("木垒哈萨克自治县", "木垒县"), ("鄂温克族自治旗", "鄂温克旗"),
    ("察布查尔锡伯自治县", "察县"), ("新疆维吾尔自治区", "新疆"), ("西藏自治区", "西藏"),
    ("内蒙古自治区", "内蒙古"), ("浙江省", "浙江"), ("锡林郭勒盟", "锡林郭勒"),
])
def test_short_forms(full: str, short: str) -> None:
    level = "province" if full.endswith(("省", "自治区")) else \
        "county" if full.endswith(("县", "旗")) else "prefecture"
    assert short in spellings(full, level, places_vocabulary())


def test_a_name_that_starts_with_a_nationality_keeps_it() -> None:
    assert autonomous_base("鄂伦春", places_vocabulary()) == "鄂伦春"
    assert autonomous_base("西藏", places_vocabulary()) == "西藏"  # 藏 is a nationality too


def test_an_ambiguous_town_is_kept_as_written_with_its_candidates() -> None:
    place = resolve_place("西营镇")
    assert place.town == Town(name="西营镇", kind="镇")
    assert place.problem is not None
    assert "甘肃省武威市凉州区西营镇" in place.problem and "县西营镇" in place.problem


def test_an_unknown_place_is_kept_as_written() -> None:
    place = resolve_place("某县某某民族乡")
    assert place.town == Town(name="某县某某民族乡", kind="民族乡")
    assert place.problem is not None and "kept as written" in place.problem


def test_a_town_the_dataset_lacks_keeps_the_levels_it_knows() -> None:
    place = resolve_place("昌吉州玛纳斯县新造镇")
    assert place.town == Town(name="新造镇", kind="镇", county="玛纳斯县", prefecture="昌吉州",
                              province="新疆维吾尔自治区")
    assert place.problem is not None and "新造镇" in place.problem


def test_a_town_the_dataset_lacks_is_never_split_from_a_prefecture() -> None:
    # No county is named, so nothing says where 某县某镇 ends: kept whole, with a warning.
    place = resolve_place("昌吉州某县某镇")
    assert place.town == Town(name="昌吉州某县某镇", kind="镇")
    assert place.problem is not None


def test_no_place_kind_is_no_town() -> None:
    place = resolve_place("某某单位")
    assert place.town is None and place.problem is not None


def test_towns_are_keyed_by_their_full_path() -> None:
    def key(text: str) -> int:
        town = parse_place(text)
        assert town is not None
        return stable_id(*town.key)  # what rows.town_id hashes

    # Two 城关镇 in two counties are two places.
    assert key("河南省郑州市新密市城关镇") != key("甘肃省兰州市永登县城关镇")
    # The same town with and without its province and prefecture, short or full, is one.
    assert key("昌吉州玛纳斯县凉州户镇") == key("新疆维吾尔自治区昌吉回族自治州玛纳斯县凉州户镇") \
        == key("玛纳斯县凉州户镇")
    assert key("浙江省宁波市镇海区招宝山街道") == key("宁波市镇海区招宝山街道")



def test_titles_naming_one_town_two_ways_are_one_place() -> None:
    from pipeline.documents import normalize_document
    from pipeline.sources import parse_source

    text = ("昌吉州玛纳斯县凉州户镇基本履职事项清单\n序号\t事项名称\n1\t一\n"
            "新疆维吾尔自治区昌吉回族自治州玛纳斯县凉州户镇上级部门收回事项清单\n"
            "序号\t事项名称\t承接部门及工作方式\n1\t二\t玛纳斯县民政局： 办理\n")
    doc = normalize_document(parse_source("t.txt", text.encode()))
    assert not any(f.code == "title-place" for f in doc.findings)
    assert doc.town.code == "652324103" and doc.town.prefecture == "昌吉州"
