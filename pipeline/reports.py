"""A self-contained HTML report for people who would rather look than read.

Charts are inline SVG drawn here (no scripts, no network); every text from the data is
escaped, so cell text is never rendered as markup.
"""

from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text

if TYPE_CHECKING:
    from pipeline.coverage import Matrix

LIST_NAMES = {"basic": "基本履职 basic", "cooperative": "配合履职 cooperative",
              "withdrawn": "上级收回 withdrawn"}
PARTY_NAMES = {"upper": "上级部门 upper", "town": "乡镇街道 town", "receiver": "承接部门 receiver"}
COLORS = {"basic": "#4e79a7", "cooperative": "#f28e2b", "withdrawn": "#59a14f",
          "upper": "#4e79a7", "town": "#f28e2b", "receiver": "#59a14f",
          "cooperative_duties": "#f28e2b", "town_steps": "#e15759"}

STYLE = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif;
       margin: 2rem auto; max-width: 960px; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.5rem; }
.numbers { display: flex; gap: 2rem; } .numbers div { font-size: 0.9rem; color: #555; }
.numbers b { display: block; font-size: 1.8rem; color: #222; }
.legend span { margin-right: 1rem; font-size: 0.85rem; }
.legend i { display: inline-block; width: 0.8rem; height: 0.8rem; margin-right: 0.3rem; }
table { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem; text-align: left; vertical-align: top; }
.error { color: #b00020; } .warning { color: #8a6d00; }
table.matrix { width: auto; } .matrix td, .matrix th { padding: 0.1rem 0.25rem; }
.matrix th.town { writing-mode: vertical-rl; font-weight: normal; }
.matrix td.has { color: #4e79a7; text-align: center; }
.matrix td.gap { background: #fde2e1; color: #b00020; text-align: center; }
"""
# The report's matrix stays readable; the whole of it is in `pipeline catalogue export`.
MATRIX_TOWNS, MATRIX_ITEMS = 40, 300


def rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def bar_chart(bars: list[tuple[str, list[tuple[str, int]]]], label_width: int = 300) -> str:
    """Horizontal stacked bars: [(label, [(series, value), …]), …] as inline SVG."""
    row_height, width = 24, 900
    biggest = max((sum(v for _, v in parts) for _, parts in bars), default=1) or 1
    scale = (width - label_width - 60) / biggest
    shapes = []
    for index, (label, parts) in enumerate(bars):
        y = index * row_height
        shapes.append(f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" '
                      f'font-size="13">{escape(label)}</text>')
        x = float(label_width)
        for series, value in parts:
            length = value * scale
            shapes.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{length:.1f}" height="16" '
                          f'fill="{COLORS.get(series, "#999")}"><title>{escape(series)}: '
                          f'{value}</title></rect>')
            x += length
        total = sum(v for _, v in parts)
        shapes.append(f'<text x="{x + 6:.1f}" y="{y + 16}" font-size="12">{total}</text>')
    height = max(len(bars), 1) * row_height + 8
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'role="img">{"".join(shapes)}</svg>')


def legend(names: dict[str, str]) -> str:
    return '<p class="legend">' + "".join(
        f'<span><i style="background:{COLORS[key]}"></i>{escape(label)}</span>'
        for key, label in names.items()) + "</p>"


def render_report(engine: Engine) -> str:
    """The whole page as one string."""
    towns, duties, steps, departments = rows(engine, """
        SELECT (SELECT count(*) FROM towns), (SELECT count(*) FROM duties),
               (SELECT count(*) FROM steps), (SELECT count(*) FROM departments)""")[0]
    by_category: dict[str, dict[str, int]] = {}
    for kind, category, count in rows(engine, "SELECT list, category, sum(duties) FROM "
                                      "category_summary GROUP BY list, category"):
        by_category.setdefault(category or "（无类别）", {})[kind] = int(count)
    category_bars = sorted(
        ((name, [(k, counts.get(k, 0)) for k in LIST_NAMES]) for name, counts in by_category.items()),
        key=lambda bar: (-sum(v for _, v in bar[1]), bar[0]))
    load = rows(engine, """
        SELECT department, sum(cooperative_duties), sum(town_steps) FROM department_workload
        GROUP BY department HAVING sum(cooperative_duties) > 0
        ORDER BY sum(cooperative_duties) DESC, sum(town_steps) DESC, department LIMIT 25""")
    load_bars = [(name, [("cooperative_duties", int(n))]) for name, n, _ in load]
    step_bars = [(PARTY_NAMES[party], [(party, int(n))]) for party, n in rows(
        engine, "SELECT party, count(*) FROM steps GROUP BY party ORDER BY party DESC")]
    findings = rows(engine, """
        SELECT severity, path, sheet, line, code, message FROM current_findings
        ORDER BY severity, path, line, code""")
    changes = changes_table(engine)
    finding_rows = "".join(
        f'<tr class="{escape(severity)}"><td>{escape(severity)}</td><td>{escape(path)}'
        f'{escape(f"[{sheet}]") if sheet else ""}</td><td>{line or ""}</td>'
        f'<td>{escape(code)}</td><td>{escape(message)}</td></tr>'
        for severity, path, sheet, line, code, message in findings)
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>履行职责事项清单 · duty lists report</title><style>{STYLE}</style></head>
<body>
<h1>履行职责事项清单 · Duty lists</h1>
<div class="numbers"><div><b>{towns}</b>乡镇街道 places</div><div><b>{duties}</b>事项 duties</div>
<div><b>{steps}</b>步骤 steps</div><div><b>{departments}</b>部门 departments</div></div>
<h2>各类别事项数 · Duties per category and list</h2>
{legend(LIST_NAMES)}
{bar_chart(category_bars, 200)}
<h2>配合事项最多的部门 · Departments by cooperative duties</h2>
{bar_chart(load_bars)}
<h2>各方步骤数 · Steps per party</h2>
{bar_chart(step_bars, 200)}
<h2>变更 · Changes in re-published lists</h2>
{changes}
<h2 id="across-towns">跨乡镇对照 · Across towns: who has which duty, who lacks what</h2>
{across_towns(engine)}
<h2>当前质量问题 · Quality findings of the current data ({len(findings)})</h2>
<table><thead><tr><th>severity</th><th>file</th><th>line</th><th>code</th><th>message</th></tr>
</thead><tbody>{finding_rows}</tbody></table>
</body></html>
"""


CHANGE_NAMES = {"added": "新增 added", "removed": "删除 removed", "reworded": "改写 reworded",
                "steps_changed": "职责变化 steps changed", "renumbered": "调序 renumbered",
                "moved": "移动 moved"}


def changes_table(engine: Engine) -> str:
    """The latest changes of lists re-published after their first version, newest first."""
    from pipeline.history import recent_changes

    found = recent_changes(engine)
    if not found:
        return "<p>No list has changed since it was first loaded.</p>"
    body = "".join(
        f"<tr><td>{escape(town)}</td><td>{escape(LIST_NAMES[kind])} v{number}</td>"
        f"<td>{escape(CHANGE_NAMES[c.change])}</td>"
        f"<td>{escape(f'{c.old_list} ' if c.old_list else '')}{c.old_seq or ''} "
        f"{escape(c.old_title or '')}</td><td>{c.new_seq or ''} {escape(c.new_title or '')}</td>"
        f"<td>{escape(c.detail or '')}</td></tr>"
        for town, kind, number, c in found)
    return ("<table><thead><tr><th>place</th><th>list</th><th>change</th><th>before</th>"
            f"<th>after</th><th>detail</th></tr></thead><tbody>{body}</tbody></table>")


def across_towns(engine: Engine) -> str:
    """Per county, the coverage matrix (items × towns, gaps marked) and each town's lacks
    and local-only items."""
    from pipeline.coverage import read_matrices

    matrices = read_matrices(engine)
    if not matrices:
        return "<p>No duty is in the catalogue yet.</p>"
    return "".join(county_section(m) for m in matrices)


def county_section(m: "Matrix") -> str:
    towns, items = m.towns[:MATRIX_TOWNS], m.items[:MATRIX_ITEMS]
    head = "".join(f'<th class="town">{escape(t.name)}</th>' for t in towns)
    body = "".join(
        f"<tr><td>{escape(LIST_NAMES[i.list].split()[0])}</td><td>{escape(i.title)}</td>"
        f"<td>{m.holders(i)}</td>"
        + "".join('<td class="has">●</td>' if (i.id, t.id) in m.present
                  else '<td class="gap" title="most of the county holds it">○</td>'
                  if m.is_gap(i, t) else "<td></td>" for t in towns) + "</tr>"
        for i in items)
    cut = [f"{len(m.towns) - len(towns)} more towns" if len(m.towns) > len(towns) else "",
           f"{len(m.items) - len(items)} more items" if len(m.items) > len(items) else ""]
    more = (f"<p>Not shown: {escape(', '.join(c for c in cut if c))}; "
            "<code>pipeline catalogue export</code> writes the whole matrix.</p>"
            if any(cut) else "")
    summary = "".join(
        f"<tr><td>{escape(t.name)}</td><td>{len(lacks)} {escape('、'.join(i.title for i in lacks))}"
        f"</td><td>{len(local)} {escape('、'.join(i.title for i in local))}</td></tr>"
        for t in m.towns for lacks, local in [(m.lacks(t), m.local(t))])
    return (f"<h3>{escape(m.group or '未分县 · places with no county')} · {len(m.towns)} places, "
            f"{len(m.items)} items</h3>"
            f'<table class="matrix"><thead><tr><th>list</th><th>item</th><th>places</th>{head}'
            f"</tr></thead><tbody>{body}</tbody></table>{more}"
            "<table><thead><tr><th>place</th><th>缺少 lacks (most of the county has)</th>"
            f"<th>独有 local only</th></tr></thead><tbody>{summary}</tbody></table>")


def write_report(engine: Engine, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(engine), encoding="utf-8")
