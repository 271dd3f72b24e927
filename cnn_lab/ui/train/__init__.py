"""The Train & compare tab: the two models' setup, the run and its live curves, the results and the sketchpad."""

from cnn_lab.ui.train.curves import CHART_CSS
from cnn_lab.ui.train.results import PICK_BRUSH_JS
from cnn_lab.ui.train.run import training_slots
from cnn_lab.ui.train.setup import restore_from_link
from cnn_lab.ui.train.tab import TrainTab, train_tab

__all__ = ["CHART_CSS", "PICK_BRUSH_JS", "TrainTab", "restore_from_link", "train_tab", "training_slots"]
