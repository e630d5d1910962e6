from core.evaluate import ner_scores


def test_scores_and_type_filter():
    gold = [["B-PER", "I-PER", "O", "B-DATE"], ["B-LOC"]]
    pred = [["B-PER", "O", "O", "B-DATE"], ["B-LOC"]]
    all_types = ner_scores(gold, pred)
    assert all_types["support"] == 3
    assert round(all_types["f1"], 4) == round(2 / 3, 4)  # DATE, LOC right; PER boundary wrong
    no_date = ner_scores(gold, pred, types=["PER", "LOC"])
    assert no_date["support"] == 2 and no_date["f1"] == 0.5
    assert set(no_date["per_type"]) == {"PER", "LOC"}
    assert no_date["per_type"]["LOC"]["f1"] == 1.0
