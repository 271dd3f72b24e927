"""Start here: steps ticked from what the session did, the next one spelled out, the result put in words."""

from cnn_lab.core.presets import default_experiment
from cnn_lab.learn.walkthrough import STEPS, Facts, first_comparison, result_words, walkthrough_markdown


def test_steps_tick_from_the_session_and_the_next_one_is_spelled_out():
    fresh = walkthrough_markdown(Facts(False, False, None, False, False))
    assert "1. → **Set up a first comparison**" in fresh and STEPS[0].todo in fresh and "✓" not in fresh
    trained = walkthrough_markdown(Facts(True, True, {"A": 0.97, "B": 0.93}, False, False))
    assert "1. ✓" in trained and "2. ✓" in trained and "3. ✓" in trained and "4. → **Draw a digit**" in trained
    assert "Model A reached 97.00%, model B 93.00%: a gap of 4.00 points." in trained
    done = walkthrough_markdown(Facts(True, True, {"A": 0.97, "B": 0.98}, True, True))
    assert done.count("✓") == 5 and "All done" in done


def test_the_first_comparison_is_the_default_pair_on_fewer_images():
    first, default = first_comparison(), default_experiment()
    assert first.a == default.a and first.b == default.b and first.run.train_subset == 10_000
    assert "SGD won this time" in result_words({"A": 0.90, "B": 0.91})
