"""Write a scanned list (hand-made, not the sample): the 柯岩街道 lists, printed and scanned.

    .venv/bin/python tests/data/scans/make.py

writes keyan.docx (python-docx, landscape, ruled tables, categories merged down), has
LibreOffice export it to PDF, renders each page at 150 dpi in grey (pypdfium2) and saves
the pages as JPEG images in an image-only PDF (Pillow): keyan-scan.pdf, what a scanner
gives. keyan.json, the truth, is written straight from the content below, not from the
pipeline. Only keyan-scan.pdf and keyan.json are kept.
"""

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.publish import export, write_docx  # noqa: E402

PLACE = "绍兴市柯桥区柯岩街道"
DPI = 150
BASIC = [
    ("党的建设", "落实基层党建工作责任制，组织开展党员教育管理"),
    ("党的建设", "指导村（社区）做好党务公开和村务监督工作"),
    ("经济发展", "做好辖区企业走访服务，协助企业申报惠企政策"),
    ("社会治理", "组织开展安全生产隐患排查，落实防汛防台各项措施"),
]
COOPERATIVE = [
    ("社会治理", "燃气安全监督检查", "柯桥区综合行政执法局",
     ["制定燃气安全检查计划；", "依法查处燃气违法行为。"],
     ["组织网格员开展日常巡查；", "发现隐患及时报告。"]),
    ("民生服务", "残疾人两项补贴发放", "柯桥区残疾人联合会",
     ["审核补贴对象资格；", "按月拨付补贴资金。"],
     ["受理补贴申请并入户核查；", "做好公示和动态管理。"]),
]
WITHDRAWN = [
    ("城乡建设", "农村建房规划许可", "柯桥区自然资源和规划局",
     ["由区自然资源和规划局统一受理审批；", "街道做好政策宣传。"]),
]


def numbered(steps: list[str]) -> list[str]:
    return [f"{n}.{text}" for n, text in enumerate(steps, start=1)]


def truth() -> dict[str, list[dict[str, object]]]:
    """Per list, each duty as the pipeline must give it (DESIGN: no marker, no trailing ；)."""
    def steps(party: str, texts: list[str]) -> list[dict[str, object]]:
        return [{"party": party, "number": n, "section": None, "text": t.rstrip("；")}
                for n, t in enumerate(texts, start=1)]

    return {
        "basic": [{"seq": i, "category": c, "title": t, "steps": []}
                  for i, (c, t) in enumerate(BASIC, start=1)],
        "cooperative": [{"seq": i, "category": c, "title": t,
                         "steps": steps("upper", upper) + steps("town", town)}
                        for i, (c, t, _, upper, town) in enumerate(COOPERATIVE, start=1)],
        "withdrawn": [{"seq": i, "category": c, "title": t, "steps": steps("receiver", method)}
                      for i, (c, t, _, method) in enumerate(WITHDRAWN, start=1)],
    }


def sections() -> list[tuple[str, list[str], list[list[str]]]]:
    return [
        (f"{PLACE}基本履职事项清单", ["序号", "事项类别", "事项名称"],
         [[str(i), c, t] for i, (c, t) in enumerate(BASIC, start=1)]),
        (f"{PLACE}配合履职事项清单",
         ["序号", "事项类别", "事项名称", "对应上级部门", "区级部门职责", "街道配合职责"],
         [[str(i), c, t, d, "\n".join(numbered(u)), "\n".join(numbered(w))]
          for i, (c, t, d, u, w) in enumerate(COOPERATIVE, start=1)]),
        (f"{PLACE}上级部门收回事项清单", ["序号", "事项类别", "事项名称", "承接部门", "工作方式"],
         [[str(i), c, t, d, "\n".join(numbered(m))] for i, (c, t, d, m) in enumerate(WITHDRAWN, start=1)]),
    ]


def scan(pdf: Path, out: Path, dpi: int = DPI) -> Path:
    """Every page of `pdf` as a grey image at `dpi`, saved as an image-only PDF."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    pages = [document[i].render(scale=dpi / 72).to_pil().convert("L") for i in range(len(document))]
    pages[0].save(out, save_all=True, append_images=pages[1:], resolution=dpi)
    document.close()
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        docx = write_docx(folder / "keyan.docx", sections(), "关于公布柯岩街道履行职责事项清单的通知",
                          "绍兴市柯桥区柯岩街道办事处")
        scan(export(docx, "pdf", folder), HERE / "keyan-scan.pdf")
    (HERE / "keyan.json").write_text(json.dumps(truth(), ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")


if __name__ == "__main__":
    main()
