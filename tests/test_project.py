"""The newcomer's instructions stay true: README commands, CI and pins agree."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomllib
from conftest import wait_for
from data_choice import DATA_ENV, choose_test_data

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


def test_ci_builds_the_docs_as_readme_says():
    """README tells how to build the docs; CI builds them the same way, strictly (a broken link fails it)."""
    assert "mkdocs build --strict" in (ROOT / ".ci" / "run").read_text()
    assert "mkdocs build --strict" in (ROOT / "README.md").read_text()
    assert "mkdocs==" in (ROOT / "requirements-dev.txt").read_text()


def test_torch_is_pinned_to_the_versions_on_disk():
    requirements = (ROOT / "requirements.txt").read_text().split()
    assert "torch==2.14.1" in requirements and "torchvision==0.29.1" in requirements


def test_spaces_front_matter_points_at_the_playground():
    head = (ROOT / "README.md").read_text().split("---")[1]
    assert "sdk: gradio" in head and "app_file: playground.py" in head and "python_version" in head


def test_a_missing_data_folder_falls_back_to_the_sample_and_says_so(tmp_path):
    environ = {DATA_ENV: str(tmp_path / "no-such-folder")}
    message = choose_test_data(environ)
    assert DATA_ENV not in environ  # cnn_lab then loads the shipped sample
    assert "no-such-folder is not a folder" in message and "shipped MNIST sample" in message
    environ = {DATA_ENV: str(tmp_path)}
    assert choose_test_data(environ) == f"test data: the data folder {tmp_path} ({DATA_ENV})"
    assert environ == {DATA_ENV: str(tmp_path)}


def test_a_wait_for_a_run_that_failed_ends_at_its_deadline():
    started = time.monotonic()
    with pytest.raises(AssertionError, match="gave up after 0.5 s waiting for the run's last output"):
        wait_for(lambda: False, 0.5, "the run's last output")
    assert time.monotonic() - started < 5


def test_a_hanging_test_is_stopped_by_the_suites_timeout(tmp_path):
    """pytest-timeout is installed and set in pytest.ini: a test stuck in a loop fails instead of hanging the run."""
    assert "timeout = " in (ROOT / "pytest.ini").read_text()
    (tmp_path / "test_hangs.py").write_text(
        "import time\n\ndef test_hangs():\n    while True:\n        time.sleep(0.1)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--timeout", "2", "test_hangs.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "Timeout" in done.stdout, done.stdout[-2000:]
    assert time.monotonic() - started < 60


def dockerfile() -> dict[str, str]:
    """The Dockerfile's instructions by keyword (the last of each), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return {line.split()[0]: line.split(None, 1)[1] for line in lines}


def test_the_container_runs_the_public_playground_as_a_user_not_root():
    steps = dockerfile()
    assert steps["USER"] == "cnn" and steps["CMD"] == '["python", "playground.py", "--public"]'
    assert "requirements.txt" in steps["RUN"] or "requirements.txt" in (ROOT / "Dockerfile").read_text()
    assert steps["EXPOSE"] == "7860" and "GRADIO_SERVER_NAME=0.0.0.0" in steps["ENV"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_the_containers_health_check_passes_against_a_running_playground(playground):
    """The HEALTHCHECK's own command, pointed at a launched playground: it exits 0 only when the page answers."""
    command = dockerfile()["HEALTHCHECK"].split(" CMD ", 1)[1]
    program = command.split('python -c "', 1)[1].rsplit('"', 1)[0]
    url, _ = playground()
    answered = subprocess.run([sys.executable, "-c", program.replace("http://127.0.0.1:7860/", url)], timeout=30)
    assert answered.returncode == 0
    refused = subprocess.run([sys.executable, "-c", program.replace("7860", "9")], capture_output=True, timeout=30)
    assert refused.returncode != 0  # nothing listening: unhealthy


def test_installing_the_package_gets_what_requirements_txt_installs():
    """`pip install -e .` (which gives the `cnn-lab` command) must install everything the app imports."""
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
    required = {line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines() if line.strip()}
    assert declared == required
