from core.aligners.orthographic import add_identical_links, identical_links
from core.data.types import Alignment


def test_identical_names_and_numbers_are_linked_not_punctuation():
    source = "Alexander Nikitin met ISO 9002 , a".split()
    target = "Alexander Nikitin traf ISO 9002 , a".split()
    assert identical_links(source, target) == {(0, 0), (1, 1), (3, 3), (4, 4)}


def test_added_links_keep_existing_scores():
    alignment = Alignment(frozenset({(0, 1)}), {(0, 1): 0.5})
    out = add_identical_links(alignment, ["Ana", "x"], ["y", "z", "ana"])
    assert out.links == {(0, 1), (0, 2)}
    assert out.scores == {(0, 1): 0.5, (0, 2): 1.0}
