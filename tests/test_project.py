"""The newcomer's instructions stay true: README commands, CI and pins agree."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    return [
        line.strip() for line in (ROOT / "README.md").read_text().splitlines() if line.startswith("    python3 -m venv")
    ]


def test_readme_gives_the_run_and_test_commands_first():
    run, test = readme_commands()[:2]
    assert run.endswith("playground.py") and "requirements.txt" in run
    assert "pytest" in test


def test_ci_runs_the_readme_test_command():
    assert readme_commands()[1] in (ROOT / ".ci" / "run").read_text()


def test_torch_is_pinned_to_the_versions_on_disk():
    requirements = (ROOT / "requirements.txt").read_text().split()
    assert "torch==2.14.1" in requirements and "torchvision==0.29.1" in requirements


def test_spaces_front_matter_points_at_the_playground():
    head = (ROOT / "README.md").read_text().split("---")[1]
    assert "sdk: gradio" in head and "app_file: playground.py" in head and "python_version" in head
