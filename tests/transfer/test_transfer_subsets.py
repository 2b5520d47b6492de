"""Fine-tuning helpers: nested label budgets and normalisation merged onto the pretrained."""

from __future__ import annotations

from cropmap.transfer.finetune import merged_norm, train_subset


def test_train_subset_nested_and_capped():
    ids = [f"p{i}" for i in range(30)]
    small, big = train_subset(ids, 5, 0, None), train_subset(ids, 10, 0, None)
    assert len(small) == 5 and set(small) <= set(big)
    assert len(train_subset(ids, "all", 0, 7)) == 7
    assert train_subset(ids, 5, 1, None) != small


def test_merged_norm_keeps_pretrained_stats():
    class P:
        norm = {"mean": {"VH": -18.0}, "std": {"VH": 3.0}}

    out = merged_norm(P(), {"mean": {"VV": -11.0, "VH": -17.0}, "std": {"VV": 2.0, "VH": 4.0}})
    assert out["mean"] == {"VV": -11.0, "VH": -18.0} and out["std"]["VH"] == 3.0
