from mnist_cnn.console import shown, table


def test_names_with_control_characters_are_escaped():
    assert shown("plain name.png") == "plain name.png"
    assert shown("a\nb") == "a\\nb"
    assert shown("\x1b]0;pwned\x07x.png") == "\\x1b]0;pwned\\x07x.png"
    assert len(table([("path", "digit"), ("evil\nrow  7", "3")]).splitlines()) == 3


def test_table_aligns_columns_and_writes_markdown():
    text = table([("name", "acc"), ("long-name", "99.1%"), ("b", "1%")])
    lines = text.splitlines()
    assert lines[0] == "name       acc" and lines[1] == "---------  -----" and lines[2] == "long-name  99.1%"
    assert table([("a", "b"), ("1", "2")], markdown=True) == "| a | b |\n|---|---|\n| 1 | 2 |"
