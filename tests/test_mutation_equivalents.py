"""Every entry of tests/mutation/equivalents.md names a mutant of the current code (issue #15).

The mutation runner leaves the listed mutants out of the score. An entry that matches no mutant
(its line edited, its function renamed) used to be ignored silently, so the mutant it meant came
back as a survivor. Generating the mutant ids is ``ast`` work only (no test runs), so checking the
whole file takes about a second.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.mutation import ids


def test_every_listed_equivalent_matches_a_current_mutant():
    text = ids.equivalents_path().read_text(encoding="utf-8")
    assert ids.entries(text), "no entries read from the equivalents file"
    stale = ids.stale_entries(text)
    message = "\n".join(
        f"{entry}\n    matches no mutant of the current code; nearest current ids:\n"
        + "\n".join(f"      {c}" for c in candidates)
        for entry, candidates in stale
    )
    assert not stale, (
        f"{len(stale)} entries of {ids.equivalents_path().name} are stale (old line-number ids are converted by"
        f" `python -m tests.mutation --convert-equivalents`):\n{message}"
    )


@pytest.mark.parametrize("module", sorted(ids.config().get("modules", {})))
def test_mutant_ids_of_every_configured_module_are_unique(module):
    sites = ids.module_sites(module)
    found = [s.id for s in sites]
    assert len(found) == len(set(found))


SOURCE = textwrap.dedent(
    """\
    def f(a, b):
        if a < b and a < b:  # twice the same comparison on one line
            return a + 1
        return b
    """
)


def test_ids_name_the_line_text_and_the_occurrence():
    assert [s.id for s in ids.sites_of_source("m", SOURCE)] == [
        'm::f::And->Or::"if a < b and a < b:"',
        'm::f::Lt->LtE::"if a < b and a < b:"',
        'm::f::Lt->LtE::"if a < b and a < b:"#2',
        'm::f::return None::"return a + 1"',
        'm::f::Add->Sub::"return a + 1"',
        'm::f::1->2::"return a + 1"',
        'm::f::return None::"return b"',
    ]
    assert [(s.line, s.col) for s in ids.sites_of_source("m", SOURCE)][:3] == [(2, 7), (2, 7), (2, 17)]


def test_ids_survive_code_added_above_and_reindentation():
    moved = "import os\n\n\nclass C:\n    pass\n\n\n" + SOURCE.replace("return a + 1", "return a  +  1  # spaced")
    before = ids.sites_of_source("m", SOURCE)
    after = ids.sites_of_source("m", moved)
    assert [s.id for s in after] == [s.id for s in before]
    assert [s.line for s in after] == [s.line + 7 for s in before]


def test_a_stale_entry_is_reported_with_the_nearest_current_ids(tmp_path, monkeypatch):
    module = tmp_path / "pkg" / "mod.py"
    module.parent.mkdir()
    module.write_text(SOURCE.replace("return a + 1", "return a + 2"), encoding="utf-8")
    monkeypatch.setattr(ids, "ROOT", tmp_path)
    text = '- `pkg.mod::f::1->2::"return a + 1"` — reason\n- `pkg.mod::f::Lt->LtE::"if a < b and a < b:"#2` — ok\n'
    stale = ids.stale_entries(text)
    assert [entry for entry, _ in stale] == ['pkg.mod::f::1->2::"return a + 1"']
    assert stale[0][1][0] == 'pkg.mod::f::2->3::"return a + 2"'


def test_old_line_number_ids_are_converted_by_the_text_of_their_line():
    then = ids.sites_of_source("m", SOURCE)
    now = ids.sites_of_source("m", "X = 1\n\n\n" + SOURCE)
    assert ids.convert_id("m::f::L2:C17::Lt->LtE", then, now) == 'm::f::Lt->LtE::"if a < b and a < b:"#2'
    with pytest.raises(ids.ConversionError, match="no mutant at that line and column"):
        ids.convert_id("m::f::L9:C1::Lt->LtE", then, now)
    edited = ids.sites_of_source("m", SOURCE.replace("a < b and a < b", "a <= b"))
    with pytest.raises(ids.ConversionError, match="its line is gone from the current code"):
        ids.convert_id("m::f::L2:C17::Lt->LtE", then, edited)


def test_the_equivalents_file_is_converted_in_place_and_unconvertible_entries_are_kept(tmp_path, monkeypatch):
    module = tmp_path / "pkg" / "mod.py"
    module.parent.mkdir()
    module.write_text(SOURCE, encoding="utf-8")
    monkeypatch.setattr(ids, "ROOT", tmp_path)
    listed = tmp_path / "equivalents.md"
    listed.write_text(
        "- `pkg.mod::f::L3:C19::1->2` — one\n- `pkg.mod::f::L9:C1::Lt->LtE` — two\n"
        '- `pkg.mod::f::return None::"return b"` — three\n',
        encoding="utf-8",
    )
    assert ids.convert_file(listed) == 1
    assert listed.read_text(encoding="utf-8") == (
        '- `pkg.mod::f::1->2::"return a + 1"` — one\n- `pkg.mod::f::L9:C1::Lt->LtE` — two\n'
        '- `pkg.mod::f::return None::"return b"` — three\n'
    )
