"""Stop: one handler for every button that ends a session's run (a training, a cross-validation, seeds)."""

from __future__ import annotations

from cnn_lab.session import Session

STOP_WAIT_S = 10.0


def stop(session: Session) -> str:
    """End the running training (cross-validation, or repeat over seeds) after its current batch. Answers once the
    run has ended (up to STOP_WAIT_S) with the run's final status: a "Stopping..." that arrived after the run's own
    last update would overwrite "Stopped" in the page (a stop ends a run within a batch, often before its answer)."""
    said = session.training.stop()
    if said.startswith("Stopping") and session.training.wait_until_idle(STOP_WAIT_S) and session.pair.view is not None:
        return session.pair.view.status_text()
    return said
