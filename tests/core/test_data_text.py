"""albert_core.data.text: documents read line by line, the sentence splitter's documented rules."""

import pytest

from albert_core.data import DataError, iter_documents, split_sentences


def test_documents_are_blank_line_separated_and_files_end_them(tmp_path):
    first = tmp_path / "a.txt"
    first.write_text("p1 of d1\n  p2 of d1  \n\n\n\np1 of d2\n", encoding="utf-8")
    second = tmp_path / "b.txt"
    second.write_text("\np1 of d3\n\np1 of d4\np2 of d4", encoding="utf-8")
    assert list(iter_documents([first, second])) == [
        ["p1 of d1", "p2 of d1"],
        ["p1 of d2"],
        ["p1 of d3"],
        ["p1 of d4", "p2 of d4"],
    ]


def test_documents_stream_lazily(tmp_path):
    """The reader yields the first document before it has read the rest of the file: a bad byte
    far behind it is only met when the reader gets there."""
    path = tmp_path / "big.txt"
    with open(path, "wb") as handle:
        handle.write(b"first document\n\n")
        handle.write(b"filler line\n" * 50_000)
        handle.write(b"\xff broken\n")
    documents = iter_documents([path])
    assert next(documents) == ["first document"]
    with pytest.raises(DataError, match=r"big\.txt:50003: not UTF-8"):
        list(documents)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello world. This is Python. Done!", ["Hello world.", "This is Python.", "Done!"]),
        ("Python 3.11 is out. It is fast.", ["Python 3.11 is out.", "It is fast."]),  # no split inside 3.11
        ("Use e.g. Lists or i.e. Tuples. Next.", ["Use e.g. Lists or i.e. Tuples.", "Next."]),
        ("Files, dirs, etc. Are fine.", ["Files, dirs, etc. Are fine."]),  # documented: no split after etc.
        ("Mr. Smith met Dr. Jones. Then J. Doe left.", ["Mr. Smith met Dr. Jones.", "Then J. Doe left."]),
        ("See the 2. edition. Then stop.", ["See the 2. edition.", "Then stop."]),  # lower-case next word
        ('He said "Stop." Then left? Yes... Fine', ['He said "Stop."', "Then left?", "Yes...", "Fine"]),
        ("Call os.path.join(a, b). Returns str.", ["Call os.path.join(a, b).", "Returns str."]),
        ("no boundary at all", ["no boundary at all"]),
        ("   ", []),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected


def test_data_package_imports_no_framework():
    import subprocess
    import sys

    code = (
        "import sys, albert_core.data, albert_core.data.postprocess, albert_core.data.metrics;"
        "print([m for m in ('torch', 'tensorflow', 'jax', 'flax', 'keras', 'transformers') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
