"""Writes the corpus's .xlsx and .docx lists with openpyxl and python-docx, the way offices lay
them out: python tests/data/layouts/make_office.py (the output is committed beside it).

Each list is written cell by cell, as a clerk types it; nothing here reads the pipeline.

henan-luoyang-mengjin-huimeng-libreoffice.docx is the Henan list opened and saved by
LibreOffice, which writes Word's numbering its own way (a cell's first paragraph under a
restarting list instance, the rest under the plain one; 一、 as taiwaneseCountingThousand):
  (LibreOffice 7.4) soffice --headless --convert-to "docx:MS Word 2007 XML" --outdir OUT henan-….docx
"""

from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

HERE = Path(__file__).resolve().parent
WRAP = Alignment(wrap_text=True, vertical="top")


def jiangsu_zhenze() -> None:
    """One sheet, the place named once in a merged title row, the lists as 一、二、 sub-titles,
    categories as merged heading rows (one stated count is wrong), a row cut by a page break
    (续表, the header repeated, the rest of the row with an empty 序号)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "清单"
    rows: list[list[object]] = [
        ["苏州市吴江区震泽镇履行职责事项清单"],
        ["一、基本履职事项清单"],
        ["序号", "事项名称", "备注"],
        ["一、党的建设（共3项）"],
        [1, "加强镇党委自身建设"],
        [2, "负责党员发展、教育、"],
        ["续表"],
        ["序号", "事项名称", "备注"],
        [None, "管理和监督工作"],
        ["二、经济发展（共1项）"],
        [1, "统筹推进丝绸特色产业发展", "含蚕桑产业"],
        [],
        ["二、配合履职事项清单"],
        ["序号", "事项名称", "对应上级部门", "上级部门职责", "震泽镇配合职责", "备注"],
        ["一、城乡建设（共2项）"],
        [1, "违法建设治理", "吴江区住房和城乡建设局", "1.制定违法建设治理计划\n2.组织联合执法",
         "1.开展日常巡查\n2.及时制止违法建设"],
        [2, "燃气安全监管", "吴江区住房和城乡建设局", "1.开展燃气安全检查\n2.查处燃气违法行为",
         "1.排查餐饮场所燃气隐患"],
        [None, None, None, "3.组织应急演练", "2.督促整改到位"],
    ]
    for number, values in enumerate(rows, start=1):
        for column, value in enumerate(values, start=1):
            sheet.cell(number, column, value).alignment = WRAP
    for number in (1, 2, 13):
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=6)
        sheet.cell(number, 1).font = Font(bold=True, size=14)
    for number in (4, 10):
        sheet.merge_cells(start_row=number, start_column=1, end_row=number, end_column=3)
    sheet.merge_cells(start_row=15, start_column=1, end_row=15, end_column=6)
    book.save(HERE / "jiangsu-suzhou-wujiang-zhenze.xlsx")


def shandong_luocheng() -> None:
    """A sheet per list; only the first title names the place; a grouped two-row header
    (主要职责 over 县级部门职责 and 街道配合职责) with 法律依据 and 责任主体 beside it; 备注 left
    empty; categories merged down."""
    book = Workbook()
    basic = book.active
    basic.title = "基本履职事项清单"
    basic["A1"] = "潍坊市寿光市洛城街道基本履职事项清单"
    basic.merge_cells("A1:D1")
    for column, word in enumerate(["序号", "事项类别", "事项名称", "备注"], start=1):
        basic.cell(2, column, word).font = Font(bold=True)
    for number, (seq, category, title) in enumerate([
            (1, "党的建设", "落实街道党工委全面从严治党主体责任"),
            (2, None, "抓好社区党组织标准化规范化建设"),
            (3, "民生服务", "做好辖区居民就业创业服务")], start=3):
        basic.cell(number, 1, seq)
        basic.cell(number, 2, category)
        basic.cell(number, 3, title).alignment = WRAP
    basic.merge_cells("B3:B4")

    cooperative = book.create_sheet("配合履职事项清单")
    cooperative["A1"] = "配合履职事项清单"
    cooperative.merge_cells("A1:G1")
    for column, word in enumerate(["序号", "事项名称", "对应上级部门", "主要职责", None, "法律依据",
                                   "责任主体"], start=1):
        cooperative.cell(2, column, word)
    cooperative.cell(3, 4, "市级部门职责")
    cooperative.cell(3, 5, "街道配合职责")
    for column in (1, 2, 3, 6, 7):
        cooperative.merge_cells(start_row=2, start_column=column, end_row=3, end_column=column)
    cooperative.merge_cells("D2:E2")
    for number, values in enumerate([
            [1, "城乡居民养老保险参保", "寿光市人力资源和社会保障局",
             "1.制定参保扩面计划\n2.审核待遇领取资格", "1.宣传参保政策\n2.收集参保资料",
             "《中华人民共和国社会保险法》", "社会事务办"],
            [2, "食品安全监管", "寿光市市场监督管理局", "①开展食品安全抽检\n②查处违法行为",
             "①开展日常巡查\n②上报问题线索", None, "经济发展办"]], start=4):
        for column, value in enumerate(values, start=1):
            cooperative.cell(number, column, value).alignment = WRAP

    withdrawn = book.create_sheet("上级部门收回事项清单")
    withdrawn["A1"] = "上级部门收回事项清单"
    withdrawn.merge_cells("A1:E1")
    for column, word in enumerate(["序号", "事项类别", "事项名称", "承接部门", "工作方式"], start=1):
        withdrawn.cell(2, column, word)
    for column, value in enumerate([1, "城市管理", "对占道经营的处罚", "寿光市综合行政执法局",
                                    "由市综合行政执法局直接实施"], start=1):
        withdrawn.cell(3, column, value)
    book.save(HERE / "shandong-weifang-shouguang-luocheng.xlsx")


# Word's list numbering: an abstract definition per format, and a numbering instance per list.
def abstract_num(numbering: OxmlElement, number: int, levels: list[tuple[str, str]]) -> None:
    """levels: (numFmt, lvlText) for ilvl 0, 1, …"""
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), str(number))
    for ilvl, (fmt, text) in enumerate(levels):
        level = OxmlElement("w:lvl")
        level.set(qn("w:ilvl"), str(ilvl))
        for tag, value in (("w:start", "1"), ("w:numFmt", fmt), ("w:lvlText", text)):
            child = OxmlElement(tag)
            child.set(qn("w:val"), value)
            level.append(child)
        abstract.append(level)
    first_num = numbering.find(qn("w:num"))
    if first_num is None:
        numbering.append(abstract)
    else:
        first_num.addprevious(abstract)


def num(numbering: OxmlElement, number: int, abstract: int, restart: bool) -> None:
    instance = OxmlElement("w:num")
    instance.set(qn("w:numId"), str(number))
    link = OxmlElement("w:abstractNumId")
    link.set(qn("w:val"), str(abstract))
    instance.append(link)
    if restart:  # what Word writes for "Restart at 1"
        override = OxmlElement("w:lvlOverride")
        override.set(qn("w:ilvl"), "0")
        start = OxmlElement("w:startOverride")
        start.set(qn("w:val"), "1")
        override.append(start)
        instance.append(override)
    numbering.append(instance)


def numbered(cell, items: list[tuple[str, int, int]]) -> None:  # type: ignore[no-untyped-def]
    """Paragraphs numbered by Word: (text, numId, ilvl); the text carries no number."""
    cell.text = ""
    for index, (text, num_id, ilvl) in enumerate(items):
        paragraph = cell.paragraphs[0] if index == 0 else cell.add_paragraph()
        paragraph.add_run(text)
        numbering = paragraph._p.get_or_add_pPr().get_or_add_numPr()
        numbering.get_or_add_ilvl().val = ilvl
        numbering.get_or_add_numId().val = num_id


def lines(cell, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    cell.text = texts[0]
    for text in texts[1:]:
        cell.add_paragraph(text)


def henan_huimeng() -> None:
    """The place named once in the document's first paragraph, lists as 一、二、 sub-titles,
    steps numbered by Word (a restart per cell, a two-level list, and one cell that shares
    another cell's list, which Word shows as 3. and 4.)."""
    document = Document()
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    heading.add_run("洛阳市孟津区会盟镇履行职责事项清单").bold = True
    document.add_paragraph("一、基本履职事项清单")
    table = document.add_table(rows=4, cols=3)
    table.style = "Table Grid"
    for row, values in enumerate([["序号", "事项类别", "事项名称"],
                                  ["1", "党的建设", "加强镇党委班子建设，落实党建工作责任制"],
                                  ["2", "", "做好村级后备力量培养工作"],
                                  ["3", "平安建设", "开展平安乡镇创建活动"]]):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    merged = table.cell(1, 1).merge(table.cell(2, 1))
    merged.text = "党的建设"

    document.add_paragraph("二、配合履职事项清单")
    numbering = document.part.numbering_part.element
    abstract_num(numbering, 90, [("decimal", "%1.")])
    abstract_num(numbering, 91, [("chineseCounting", "%1、"), ("decimal", "%2.")])
    abstract_num(numbering, 92, [("decimal", "（%1）")])
    num(numbering, 101, 90, restart=True)
    num(numbering, 102, 90, restart=True)
    num(numbering, 103, 91, restart=True)
    num(numbering, 104, 92, restart=True)
    table = document.add_table(rows=4, cols=5)
    table.style = "Table Grid"
    for column, word in enumerate(["序号", "事项名称", "对应上级部门", "上级部门职责",
                                   "会盟镇配合职责"]):
        table.cell(0, column).text = word
    for row, values in enumerate([["1", "小麦“一喷三防”", "孟津区农业农村局"],
                                  ["2", "黄河滩区安全管理", "孟津区水利局"],
                                  ["3", "退役军人优待抚恤", "孟津区退役军人事务局"]], start=1):
        for column, value in enumerate(values):
            table.cell(row, column).text = value
    numbered(table.cell(1, 3), [("制定技术方案", 101, 0), ("组织技术培训", 101, 0),
                                ("开展督导检查", 101, 0)])
    numbered(table.cell(1, 4), [("组织农户开展统防统治", 102, 0), ("上报防治进度", 102, 0)])
    numbered(table.cell(2, 3), [("巡查工作", 103, 0), ("制定巡查制度", 103, 1),
                                ("组织汛期巡查", 103, 1), ("处置工作", 103, 0),
                                ("依法查处违法行为", 103, 1)])
    numbered(table.cell(2, 4), [("落实包村干部巡查", 104, 0), ("及时报告险情", 104, 0)])
    table.cell(3, 3).text = "1.审核优待抚恤对象；2.发放抚恤金"
    # Copied from the cell of duty 1: the same list, so Word goes on counting (3., 4.).
    numbered(table.cell(3, 4), [("协助走访慰问", 102, 0), ("收集优抚对象信息", 102, 0)])
    document.save(HERE / "henan-luoyang-mengjin-huimeng.docx")


def guangdong_beijiao() -> None:
    """A grouped header (主要职责 spans 区级部门职责 and 镇（街道）配合职责, the other header
    cells merged down), a table continued on the next page after 续表 with both header rows
    repeated and the cut row's rest first, （一） headings over 1. steps, circled numbers."""
    document = Document()
    document.add_paragraph("佛山市顺德区北滘镇配合履职事项清单").runs[0].bold = True

    def cooperative_table(body: list[list[object]]):  # type: ignore[no-untyped-def]
        table = document.add_table(rows=2 + len(body), cols=5)
        table.style = "Table Grid"
        for column, word in enumerate(["序号", "事项名称", "对应上级部门"]):
            table.cell(0, column).merge(table.cell(1, column)).text = word
        table.cell(0, 3).merge(table.cell(0, 4)).text = "主要职责"
        table.cell(1, 3).text = "区级部门职责"
        table.cell(1, 4).text = "镇（街道）配合职责"
        for row, values in enumerate(body, start=2):
            for column, value in enumerate(values):
                if isinstance(value, list):
                    lines(table.cell(row, column), value)
                else:
                    table.cell(row, column).text = str(value)
        return table

    cooperative_table([
        ["1", "家电产业安全生产监管", "顺德区应急管理局",
         ["（一）监督检查", "1.制定年度执法计划；", "2.开展重点企业检查"],
         ["①开展企业安全隐患排查", "②督促企业落实整改"]],
        ["2", "村级工业园改造", "顺德区自然资源局",
         ["1.编制村级工业园改造规划", "2.审批改造方案"], ["1.组织村（社区）开展摸底调查"]],
    ])
    document.add_paragraph("续表")
    cooperative_table([
        ["", "", "", ["3.监督改造项目实施"], ["2.协调群众利益诉求"]],
        ["3", "非法营运整治", "顺德区交通运输局", ["1.组织开展联合执法"], ["1.开展宣传劝导"]],
    ])
    document.add_paragraph("佛山市顺德区北滘镇上级部门收回事项清单").runs[0].bold = True
    table = document.add_table(rows=2, cols=3)
    table.style = "Table Grid"
    for column, word in enumerate(["序号", "事项名称", "承接部门及工作方式"]):
        table.cell(0, column).text = word
    for column, value in enumerate(["1", "对违反燃气管理规定的处罚",
                                    "顺德区住房城乡建设和水利局：负责执法检查、立案查处"]):
        table.cell(1, column).text = value
    document.save(HERE / "guangdong-foshan-shunde-beijiao.docx")


if __name__ == "__main__":
    jiangsu_zhenze()
    shandong_luocheng()
    henan_huimeng()
    guangdong_beijiao()
