from pipeline.tables import parse_tables, read_rows


def test_repeated_headers_dropped_and_lines_kept() -> None:
    text = ("\n甲镇基本履职事项清单\n\n序号\t事项类别\t事项名称\n1\t党建\t一\n\n"
            "序号\t事项类别\t事项名称\n2\t党建\t二\n甲镇配合履职事项清单\t\t\n序号\t事项名称\n1\t三\n")
    tables = parse_tables(read_rows(text))
    assert [s.title for s in tables.sections] == ["甲镇基本履职事项清单", "甲镇配合履职事项清单"]
    basic, cooperative = tables.sections
    assert basic.title_line == 2
    assert basic.header is not None and basic.header.line == 4
    assert [(r.line, r.cells[0]) for r in basic.rows] == [(5, "1"), (8, "2")]
    assert [r.cells for r in cooperative.rows] == [["1", "三"]]


def test_rows_before_any_title_are_orphans() -> None:
    tables = parse_tables(read_rows("1\t党建\t一\n甲镇基本履职事项清单\n"))
    assert [r.line for r in tables.orphans] == [1]


def test_crlf_and_cr_line_ends() -> None:
    rows = list(read_rows("a\r\nb\rc\n"))
    assert [(r.line, r.cells) for r in rows] == [(1, ["a"]), (2, ["b"]), (3, ["c"])]


def test_a_cut_short_title_still_starts_a_section() -> None:
    tables = parse_tables(read_rows("甲镇配合履职事项清\n序号\t事项名称\n1\t一\n"))
    assert [s.title for s in tables.sections] == ["甲镇配合履职事项清"]


def test_sample_has_three_sections_without_repeated_headers(sample_text: str) -> None:
    tables = parse_tables(read_rows(sample_text))
    assert [len(s.rows) for s in tables.sections] == [106, 107, 37]


def test_a_sentence_that_mentions_a_list_is_not_a_title() -> None:
    text = "现将我镇履行职责事项清单予以公布。\n首页 > 乡镇清单\n甲镇基本履职事项清单\n序号\t事项名称\n"
    tables = parse_tables(read_rows(text + "1\t一\n"))
    assert [s.title for s in tables.sections] == ["甲镇基本履职事项清单"]
