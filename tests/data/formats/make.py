"""Write the 双塔街道 lists (hand-made, not the sample) in every format a portal publishes.

    .venv/bin/python tests/data/formats/make.py

writes shuangta.docx and shuangta.xlsx (python-docx, openpyxl), then has LibreOffice export
shuangta-docx.pdf, shuangta-xlsx.pdf, shuangta.doc and shuangta.xls from them, and writes
one golden JSON per list (shuangta-basic.json …) straight from the content below, not from
the pipeline. The goldens were then read against the content by hand.
"""

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.publish import export, write_docx, write_xlsx  # noqa: E402

PLACE = "苏州市姑苏区双塔街道"
# Step cells: a list of paragraphs; ("一、事前", [...]) is a section heading with its steps.
BASIC = [
    ("党的建设", "加强街道党工委自身建设，落实全面从严治党主体责任，执行“三重一大”集体决策制度"),
    ("党的建设", "负责社区党组织换届选举，指导社区党组织开展“三会一课”和主题党日活动"),
    ("党的建设", "做好辖区“两新”组织党建工作，推进楼宇党建和商圈党建"),
    ("平安建设", "落实平安建设责任制，开展矛盾纠纷排查化解，做好信访接待和积案化解工作"),
    ("平安建设", "组织开展反诈宣传，协助做好辖区流动人口和出租房屋信息登记"),
    ("民生服务", "受理辖区居民最低生活保障、特困供养申请并进行入户调查、公示"),
    ("民生服务", "做好辖区老年人助餐服务点的建设、运营监督和补贴申报工作"),
    ("民生服务", "开展残疾人证办理初审，做好残疾人“两项补贴”申请受理和动态管理"),
    ("城市管理", "组织开展背街小巷环境整治，落实门前“三包”责任制"),
    ("城市管理", "负责辖区古城保护巡查，发现违法搭建、破坏历史建筑行为及时劝阻并报告"),
    ("综合政务", "负责街道政务公开、档案管理、公文处理和印章管理工作"),
]
COOPERATIVE = [
    ("民生服务", "困难群众临时救助", "姑苏区民政局",
     ["制定临时救助实施细则，明确救助对象、标准和程序；",
      "对街道上报的救助对象进行审核审批，按月拨付救助资金；",
      "每年对临时救助工作开展抽查，对发现的问题督促整改。"],
     ["受理困难群众临时救助申请，组织社区工作人员在5个工作日内完成入户调查；",
      "对调查结果在申请人所在社区公示7日，公示无异议后报区民政局审批；",
      "建立救助对象台账，做好跟踪回访。"]),
    ("民生服务", "居家养老服务补贴发放", "姑苏区民政局、姑苏区财政局",
     ["区民政局制定居家养老服务补贴标准，审核街道上报的补贴对象名单；",
      "区财政局按照审核结果及时足额拨付补贴资金，并对资金使用情况开展绩效评价。"],
     ["组织社区对申请补贴的老年人开展能力评估和家庭经济状况核查；",
      "汇总补贴对象名单报区民政局审核；",
      "按月发放补贴，并在社区公开栏公布发放情况。"]),
    ("城市管理", "沿街店铺油烟污染治理", "姑苏区城市管理局、姑苏区生态环境局",
     ["区城市管理局负责对未安装油烟净化设施或者不正常使用的餐饮店铺依法查处；",
      "区生态环境局负责对油烟排放开展抽样监测，向街道通报超标店铺名单，对拒不整改的依法处罚；",
      "两部门每季度开展一次联合检查，并将检查结果反馈街道。"],
     ["组织网格员开展日常巡查，建立沿街餐饮店铺台账；",
      "对群众投诉的油烟扰民问题先行劝导，督促店主清洗净化设施；",
      "对劝导无效的店铺，及时将线索移交区城市管理局。"]),
    ("城市管理", "老旧小区加装电梯", "姑苏区住房和建设局",
     [("一、前期指导", ["制定老旧小区加装电梯工作指引和补助政策；",
                   "组织设计、施工单位开展现场踏勘，出具可行性意见；"]),
      ("二、建设监管", ["对加装电梯项目的施工安全和工程质量进行监督检查；",
                   "组织竣工验收，按规定拨付补助资金。"])],
     ["宣传加装电梯政策，协助业主开展意见征询，对“一楼不同意”等矛盾进行协调；",
      "收集整理业主申请材料，初审后报区住房和建设局；",
      "施工期间协调解决扰民问题，做好现场安全巡查。"]),
    ("平安建设", "消防安全隐患排查整治", "姑苏区消防救援大队",
     ["对辖区消防安全重点单位开展监督检查，依法查处消防违法行为；",
      "对街道消防专职队员开展业务培训，指导微型消防站建设。"],
     ["组织社区对“九小场所”和居民住宅开展消防安全检查，建立隐患清单；",
      "督促责任人整改一般隐患，对重大隐患及时报告区消防救援大队；",
      "每年组织不少于两次消防演练。"]),
    ("平安建设", "校园周边安全整治", "姑苏区教育局、姑苏区公安分局",
     ["区教育局负责督促学校落实安全主体责任，建立校园安全隐患台账；",
      "区公安分局负责上下学时段护学岗值守，依法打击校园周边违法犯罪活动。"],
     ["组织城管、市场监管力量清理校园周边流动摊点；",
      "协助开展校园周边交通秩序整治，做好家长接送区域的秩序维护。"]),
]
WITHDRAWN = [
    ("城市管理", "对在城市道路上擅自设置摊点的处罚", "姑苏区城市管理局",
     ["由区城市管理局负责立案调查、作出行政处罚决定；",
      "街道发现线索后移交区城市管理局。"]),
    ("城市管理", "户外广告设施设置审批", "姑苏区城市管理局",
     ["由区城市管理局统一受理、审批户外广告设施设置申请。"]),
    ("民生服务", "生育登记服务", "姑苏区卫生健康委员会",
     ["由区卫生健康委员会通过政务服务平台统一办理生育登记；",
      "街道不再受理纸质申请，做好政策咨询和引导。"]),
    ("民生服务", "慢性病患者门诊费用审核", "姑苏区医疗保障局",
     ["由区医疗保障局负责慢性病资格认定和门诊费用审核结算。"]),
    ("综合政务", "地名标志设置与维护", "姑苏区民政局",
     ["由区民政局负责地名标志的设置、更新和日常维护；",
      "街道发现标志损坏及时报告。"]),
]


def numbered(steps: list[str]) -> list[str]:
    return [f"{n}.{text}" for n, text in enumerate(steps, start=1)]


def cell_lines(steps: list) -> list[str]:
    """The paragraphs of a step cell: numbered steps, or headings each with its steps."""
    if steps and isinstance(steps[0], tuple):
        return [line for heading, inner in steps for line in [heading, *numbered(inner)]]
    return numbered(steps)


def golden_steps(party: str, steps: list) -> list[dict[str, object]]:
    """What the steps stage must give, written from the content (DESIGN: no marker, no ；)."""
    groups = steps if steps and isinstance(steps[0], tuple) else [(None, steps)]
    found = []
    for heading, inner in groups:
        section = heading.split("、", 1)[1] if heading else None
        for number, text in enumerate(inner, start=1):
            found.append({"party": party, "number": number, "section": section,
                          "text": text.rstrip("；")})
    return found


def sections() -> tuple[list[tuple[str, list[str], list[list[str]]]], dict[str, list]]:
    lists, goldens = [], {}
    rows = [[str(i), category, title] for i, (category, title) in enumerate(BASIC, start=1)]
    lists.append((f"{PLACE}基本履职事项清单", ["序号", "事项类别", "事项名称"], rows))
    goldens["basic"] = [{"seq": i, "category": c, "title": t, "steps": []}
                        for i, (c, t) in enumerate(BASIC, start=1)]
    rows, golden = [], []
    for i, (category, title, departments, upper, town) in enumerate(COOPERATIVE, start=1):
        rows.append([str(i), category, title, departments, "\n".join(cell_lines(upper)),
                     "\n".join(cell_lines(town))])
        golden.append({"seq": i, "category": category, "title": title,
                       "steps": golden_steps("upper", upper) + golden_steps("town", town)})
    lists.append((f"{PLACE}配合履职事项清单",
                  ["序号", "事项类别", "事项名称", "对应上级部门", "区级部门职责", "街道配合职责"], rows))
    goldens["cooperative"] = golden
    rows, golden = [], []
    for i, (category, title, receiver, method) in enumerate(WITHDRAWN, start=1):
        rows.append([str(i), category, title, receiver, "\n".join(numbered(method))])
        golden.append({"seq": i, "category": category, "title": title,
                       "steps": golden_steps("receiver", method)})
    lists.append((f"{PLACE}上级部门收回事项清单",
                  ["序号", "事项类别", "事项名称", "承接部门", "工作方式"], rows))
    goldens["withdrawn"] = golden
    return lists, goldens


def main() -> None:
    lists, goldens = sections()
    docx = write_docx(HERE / "shuangta.docx", lists, "关于公布双塔街道履行职责事项清单的通知",
                      "苏州市姑苏区双塔街道办事处")
    xlsx = write_xlsx(HERE / "shuangta.xlsx", lists)
    with tempfile.TemporaryDirectory() as work:
        out = Path(work)
        for source, target, name in [(docx, "pdf", "shuangta-docx.pdf"),
                                     (xlsx, "pdf", "shuangta-xlsx.pdf"),
                                     (docx, "doc", "shuangta.doc"),
                                     (xlsx, "xls", "shuangta.xls")]:
            export(source, target, out).replace(HERE / name)
    for kind, golden in goldens.items():
        (HERE / f"shuangta-{kind}.json").write_text(
            json.dumps(golden, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
