"""The training seed varies the run, never the data: all seeds share one dataset."""

from skipsnn.config import default_config
from skipsnn.train import setup


def test_training_seed_does_not_change_the_data(monkeypatch):
    seen = []

    def fake_load_frames(name, split, **kw):
        seen.append((name, split, kw["seed"]))
        return split

    monkeypatch.setattr("skipsnn.data.load_frames", fake_load_frames)
    for seed in (0, 7):
        setup.load_data(default_config("gestures").replace(train={"seed": seed}), None, False)
    assert {s for _, _, s in seen} == {0}
    setup.load_data(default_config("gestures").replace(dataset={"seed": 3}), None, False)
    assert seen[-1] == ("gestures", "test", 3)
