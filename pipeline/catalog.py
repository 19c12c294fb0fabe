"""What every table, view and column means, in Chinese and English, for people browsing.

Datasette's metadata (schemas/datasette-metadata.json) is generated from this; a test
checks that every column of every table and view is described here.
"""

from typing import Any

# Columns that mean the same wherever they appear.
COMMON = {
    "id": "编号 · id (stable across rebuilds)",
    "town_id": "乡镇街道编号 · place id", "town": "乡镇街道 · place",
    "duty_id": "事项编号 · duty id", "department_id": "部门编号 · department id",
    "document_id": "文件编号 · document id", "run_id": "构建编号 · build id",
    "list": "清单 · list: basic 基本履职 / cooperative 配合履职 / withdrawn 上级收回",
    "seq": "序号 · number in the list", "category": "事项类别 · category",
    "title": "事项名称 · duty title", "path": "源文件 · source file",
    "jurisdiction": "所属辖区 · jurisdiction (e.g. 玛纳斯县)", "county": "县/区 · county",
    "raw": "原文 · the source text, lossless", "parser_version": "解析器版本 · parser version",
    "rows_read": "读取行数 · rows read", "duties_loaded": "入库事项数 · duties loaded",
    "rows_quarantined": "隔离行数 · rows quarantined (see quality_issues)",
}

# table → (description, {column: description} beyond COMMON, facets, label column)
TABLES: dict[str, tuple[str, dict[str, str], list[str], str | None]] = {
    "towns": ("乡镇街道 · Places (乡镇/街道) named in list titles", {
        "name": "名称 · name (凉州户镇)", "kind": "类型 · kind (镇/乡/街道/苏木)",
        "prefecture": "州/市/地区/盟 · prefecture, as written (NULL for a 直辖市 or 省直辖 county)",
        "province": "省/自治区/直辖市 · province, as written, else from the division dataset",
        "code": "区划代码 · 国家统计局 division code (652324103); NULL when the dataset lacks the town",
        "row_block": "编号段 · the block of ids its duties and steps are numbered in",
    }, ["kind", "county"], "name"),
    "documents": ("源文件 · Loaded source documents, one per file content still providing a list", {
        "sha256": "文件摘要 · SHA-256 of the file", "format": "格式 · tsv/html/xlsx/docx",
        "encoding": "编码 · the encoding it was decoded with", "loaded_at": "入库时间 · loaded at",
        "findings_run_id": "问题所属构建 · the build whose findings describe this file",
    }, ["format", "encoding"], "path"),
    "list_versions": ("清单版本 · Every version of each place's lists; the current one fills the "
                      "other tables", {
        "number": "版本号 · version 1, 2, … of this place's list",
        "sha256": "文件摘要 · SHA-256 of the file it was last loaded from",
        "content_sha256": "内容摘要 · SHA-256 of the list's rows (category and cells)",
        "duties": "事项数 · duties in this version",
        "published": "发布日期 · publication date",
        "published_from": "日期来源 · document (the file says so) / argument (--published) / "
                          "file-modified / unknown",
        "loaded_at": "入库时间 · loaded at", "is_current": "当前版本 · the version shown now",
        "withdrawn_at": "撤下时间 · when pipeline forget removed it",
        "content": "内容 · the version's duties, zlib-compressed JSON (pipeline history --version)",
    }, ["list", "is_current", "published_from"], None),
    "duty_changes": ("事项变更 · What changed in each new version of a list", {
        "version_id": "版本编号 · the version the change leads to",
        "previous_version_id": "上一版本编号 · the version before (NULL for a first version)",
        "change": "变更 · added/removed/reworded/steps_changed/renumbered/moved",
        "old_list": "原清单 · the list a moved duty came from",
        "old_seq": "原序号 · 序号 before", "new_seq": "新序号 · 序号 after",
        "old_title": "原名称 · title before", "new_title": "新名称 · title after",
        "score": "相似度 · title similarity of a reworded duty, 0–100",
        "detail": "说明 · what else changed (category, step counts)",
    }, ["change", "list", "town_id"], "new_title"),
    "schema_state": ("结构版本 · The schema this database was made with", {
        "name": "名称 · name", "digest": "摘要 · SHA-256 of the DDL",
    }, [], None),
    "duties": ("履职事项 · One row per list row (duty)", {
        "source_line": "源行号 · line (or sheet row) in the source",
        "source_sheet": "源工作表 · xlsx sheet or docx table",
    }, ["list", "category"], "title"),
    "steps": ("履职步骤 · Numbered steps of each responsibility", {
        "party": "主体 · upper 上级部门 / town 乡镇街道 / receiver 承接部门",
        "position": "顺序 · position within duty and party",
        "number": "原编号 · the number in the source (NULL when unnumbered)",
        "section": "小节 · heading (一、…) or department sub-heading",
        "text": "内容 · step text, normalized",
    }, ["party", "section"], "text"),
    "departments": ("部门 · One row per real department", {
        "name": "规范名称 · canonical full name", "short_name": "简称 · 县/州 form",
    }, ["jurisdiction"], "name"),
    "department_aliases": ("部门别名 · Every spelling seen, per jurisdiction", {
        "alias": "写法 · spelling as seen",
    }, ["jurisdiction"], "alias"),
    "duty_departments": ("事项与部门 · Which departments each duty involves", {
        "role": "角色 · counterpart 对应上级部门 / receiver 承接部门 / mentioned 文中提及",
        "written": "原写法 · as written in the source",
        "note": "附注 · catch-all text cut off the name (及其他…部门)",
    }, ["role", "department_id"], None),
    "quality_issues": ("质量问题 · Findings of each build", {
        "sheet": "工作表 · sheet or table", "line": "行号 · line", "field": "字段 · field",
        "code": "代码 · finding code", "severity": "级别 · error/warning",
        "message": "说明 · what is wrong and how to fix it",
    }, ["severity", "code", "path"], "message"),
    "runs": ("构建记录 · Each build", {
        "started_at": "开始 · started", "finished_at": "结束 · finished",
        "arguments": "参数 · command-line arguments",
        "documents_loaded": "已入库 · documents loaded",
        "documents_skipped": "未变跳过 · documents unchanged and skipped",
        "documents_failed": "失败 · documents failed",
    }, [], None),
    "run_documents": ("构建明细 · Each document of each build", {
        "status": "状态 · loaded/skipped/failed",
    }, ["status"], None),
    "duty_overview": ("事项总览 · One row per duty with its departments and step counts", {
        "departments": "对应/承接部门 · counterpart or receiver departments, 、-joined",
        "upper_steps": "上级部门步骤数 · upper steps", "town_steps": "乡镇步骤数 · town steps",
        "receiver_steps": "承接部门步骤数 · receiver steps",
    }, ["list", "category", "town"], "title"),
    "department_workload": ("部门工作量 · Per department and place", {
        "department": "部门 · department",
        "cooperative_duties": "配合事项数 · cooperative duties it is counterpart to",
        "withdrawn_duties": "收回事项数 · withdrawn duties it received",
        "mentioned_in_duties": "提及次数 · duties whose steps name it",
        "town_steps": "乡镇步骤数 · steps the town carries in its cooperative duties",
    }, ["town", "jurisdiction"], "department"),
    "category_summary": ("类别汇总 · Duties per category and list, per place", {
        "duties": "事项数 · duties",
    }, ["list", "town"], None),
    "duty_text": ("事项全文 · Each duty's title and steps, a line each: what the search box reads "
                  "(SQLite only)", {
        "rowid": "事项编号 · duty id", "duty_text": "全文 · title and steps",
    }, [], None),
    "catalogue_items": ("事项目录 · The cross-town catalogue: one item per duty as the towns "
                        "share it", {
        "title": "规范名称 · canonical title: the reference's, else the wording most of its "
                 "duties use",
        "title_key": "归一名称 · the normalized title it was founded on",
        "category": "事项类别 · the reference's, else the commonest of its duties'",
        "code": "目录编码 · the reference catalogue's code (NULL when none was imported)",
        "source": "来源 · towns (found in the lists) / reference (pipeline catalogue import)",
    }, ["list", "source", "category"], "title"),
    "catalogue_titles": ("名称归属 · Every distinct normalized title and the item it went to", {
        "title_id": "名称编号 · id of the distinct title, from (list, title_key)",
        "title_key": "归一名称 · normalized title (the folding search uses)",
        "item_id": "目录事项编号 · catalogue item id",
        "score": "相似度 · similarity to the item, 0–100",
        "method": "方式 · exact (its own item) / similar / reference",
        "reason": "原因 · unsure / same-town: near an item but given its own; NULL when sure",
        "candidates": "候选 · the items it was near, JSON [[item_id, score], …]",
    }, ["list", "method", "reason"], "title_key"),
    "duty_catalogue": ("事项归目 · Which catalogue item each current duty is", {
        "item_id": "目录事项编号 · catalogue item id",
        "score": "相似度 · title similarity to the item, 0–100 (NULL for manual)",
        "method": "方式 · exact / similar / reference / manual",
        "title_key": "归一名称 · the duty's normalized title",
        "title_id": "名称编号 · its catalogue_titles row",
        "version_id": "版本编号 · the list version that was matched",
    }, ["method", "list"], None),
    "catalogue_decisions": ("人工归目 · Decisions of pipeline catalogue link / split; they hold "
                            "for every version of the list whose duty has the same title", {
        "title_key": "归一名称 · the duty's normalized title",
        "title_id": "名称编号 · from (list, title_key)",
        "decision": "决定 · link (to item_id) / split (an item of its own)",
        "item_id": "目录事项编号 · the item linked to (NULL for split)",
        "decided_at": "决定时间 · decided at",
    }, ["decision", "list"], "title"),
    "catalogue_reviews": ("待核归目 · Duties given an item of their own though near another: "
                          "what pipeline catalogue review lists", {
        "item_id": "目录事项编号 · the item it was given",
        "reason": "原因 · unsure / same-town / stale (a manual link to an item now gone)",
        "candidates": "候选 · the items it was near, JSON [[item_id, title, score], …]",
        "finding_id": "问题编号 · its quality_issues row",
    }, ["reason"], None),
    "town_peers": ("同县乡镇 · Each town's peers: the towns of its county (all towns when its "
                   "county is unknown)", {
        "peer_id": "同县乡镇编号 · peer town id", "peer": "同县乡镇 · peer town",
    }, [], None),
    "catalogue_coverage": ("目录覆盖 · Item × town: every item of the town's county (and every "
                           "reference item) for each town with that list", {
        "item_id": "目录事项编号 · catalogue item id",
        "present": "是否具有 · 1 when the town has a duty of the item, else 0",
    }, ["present"], None),
    "catalogue_shared": ("全县共有 · Items every town of a county has", {
        "province": "省 · province", "prefecture": "州/市 · prefecture",
        "item_id": "目录事项编号 · catalogue item id", "code": "目录编码 · reference code",
        "towns": "乡镇数 · towns of the county with that list",
    }, ["county", "list"], "title"),
    "catalogue_lacks": ("缺项 · Items a town lacks that most towns of its county have", {
        "item_id": "目录事项编号 · catalogue item id", "code": "目录编码 · reference code",
        "towns_with": "具有的乡镇数 · towns of the county that have it",
        "towns": "乡镇数 · towns of the county with that list",
    }, ["town", "list", "county"], "title"),
    "catalogue_local": ("独有事项 · Items of one town only", {
        "item_id": "目录事项编号 · catalogue item id",
    }, ["town", "list"], "title"),
    "current_findings": ("当前问题 · Findings of the data as it is now: the last load of every "
                         "file that provides a current list, and every file whose latest build "
                         "failed", {
        "sheet": "工作表 · sheet or table", "line": "行号 · line", "field": "字段 · field",
        "code": "代码 · finding code", "severity": "级别 · error/warning",
        "message": "说明 · what is wrong and how to fix it",
    }, ["severity", "code", "path"], "message"),
}


# The README's questions, as canned queries an analyst clicks in Datasette and changes the
# parameters of; tests/test_contracts.py checks they are the README's SQL.
QUESTIONS: dict[str, tuple[str, str]] = {
    "duties_per_category": ("各类别事项数 · How many duties does each list hold, per category?", """
SELECT list, category, sum(duties) AS duties
FROM category_summary GROUP BY list, category ORDER BY list, duties DESC, category"""),
    "busiest_departments": ("部门工作量 · Which county departments hand the town the most work?", """
SELECT department, cooperative_duties, town_steps, withdrawn_duties
FROM department_workload WHERE cooperative_duties > 0
ORDER BY cooperative_duties DESC, town_steps DESC, department"""),
    "town_carries_more": ("乡镇步骤多于部门 · Where does the town carry more steps than the "
                          "departments it cooperates with?", """
SELECT seq, title, departments, upper_steps, town_steps
FROM duty_overview
WHERE list = 'cooperative' AND town_steps > upper_steps
ORDER BY town_steps - upper_steps DESC, seq"""),
    "town_steps_for_department": ("为某部门的乡镇步骤 · Which steps does the town take for one "
                                  "department (its short name, e.g. 县公安局)?", """
SELECT d.seq, d.title, s.position, s.text
FROM duty_departments l
JOIN departments p ON p.id = l.department_id
JOIN duties d ON d.id = l.duty_id
JOIN steps s ON s.duty_id = d.id AND s.party = 'town'
WHERE l.role = 'counterpart' AND p.short_name = :department
ORDER BY d.seq, s.position"""),
    "current_findings": ("当前问题 · What is wrong with the data as it stands, and where?", """
SELECT path, line, severity, code, message FROM current_findings
ORDER BY severity, path, line, code, message"""),
    "catalogue_lacks": ("缺项 · Which towns lack a duty most of their county carries?", """
SELECT town, list, title, towns_with, towns FROM catalogue_lacks
ORDER BY town, list, towns_with DESC, title"""),
    "catalogue_shared": ("全县共有 · Which duties does every town of a county carry?", """
SELECT county, list, title, towns FROM catalogue_shared ORDER BY county, list, title"""),
    "catalogue_local": ("独有事项 · Which duties does only one town carry?", """
SELECT town, list, title FROM catalogue_local ORDER BY town, list, title"""),
    "duties_mentioning": ("含某词的事项 · Which duties name a term (any length) in their title "
                          "or steps?", """
SELECT t.name AS town, d.list, d.seq, d.title FROM duties d JOIN towns t ON t.id = d.town_id
WHERE d.title LIKE '%' || :term || '%'
   OR EXISTS (SELECT 1 FROM steps s WHERE s.duty_id = d.id AND s.text LIKE '%' || :term || '%')
ORDER BY t.name, d.list, d.seq"""),
}


def describe(table: str, column: str) -> str | None:
    return TABLES[table][1].get(column) or COMMON.get(column)


def datasette_metadata(columns: dict[str, list[str]]) -> dict[str, Any]:
    """Datasette metadata for a database named duties; `columns` lists each relation's."""
    tables: dict[str, Any] = {}
    for name, (description, _, facets, label) in TABLES.items():
        entry: dict[str, Any] = {
            "description": description,
            "columns": {c: describe(name, c) for c in columns[name]},
        }
        if facets:
            entry["facets"] = facets
        if label:
            entry["label_column"] = label
        tables[name] = entry
    # Searched through the view and plugin of datasette_plugin.py, as `pipeline search` does.
    tables["duties"] |= {"fts_table": "duty_text", "fts_pk": "id", "searchmode": "raw"}
    return {
        "title": "履行职责事项清单 · Township duty lists",
        "description": "乡镇（街道）基本履职、配合履职、上级部门收回事项清单，经 dutylists 清洗入库。"
                       " Search duties with the box above the table: every term (any length, "
                       "\"a phrase\" in quotes) must occur in the title or a step.",
        "source": "dutylists",
        "databases": {"duties": {"tables": tables, "queries": {
            name: {"title": title, "sql": sql.strip()} for name, (title, sql) in QUESTIONS.items()
        }}},
    }
