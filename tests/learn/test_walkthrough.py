"""Start here: steps ticked from what the session did, the next one spelled out, the result put in words."""

from cnn_lab.core.presets import default_experiment
from cnn_lab.learn.walkthrough import STEPS, Facts, first_comparison, result_words, walkthrough_markdown


def test_steps_tick_from_the_session_and_the_next_one_is_spelled_out():
    plan = "both models on 20,000 of MNIST's 60,000 training images, 1 epoch, about 15 s on this machine"
    fresh = walkthrough_markdown(Facts(False, False, None, False, False, plan))
    assert "1. → **Set up a first comparison**" in fresh and "✓" not in fresh
    assert STEPS[0].todo.format(first_run=plan) in fresh  # the Train tab's own numbers
    trained = walkthrough_markdown(Facts(True, True, {"A": 0.97, "B": 0.93}, False, False))
    assert "1. ✓" in trained and "2. ✓" in trained and "3. ✓" in trained and "4. → **Draw a digit**" in trained
    assert "Model A reached 97.00%, model B 93.00%: a gap of 4.00 points." in trained
    done = walkthrough_markdown(Facts(True, True, {"A": 0.97, "B": 0.98}, True, True))
    assert done.count("✓") == 5 and "All done" in done


def test_the_first_comparison_is_the_page_default_run():
    assert first_comparison() == default_experiment()
    assert "SGD won this time" in result_words({"A": 0.90, "B": 0.91})
