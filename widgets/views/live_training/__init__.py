"""Lesson 5: live training of GoogLeNet, with a CPU fallback and a replay of a recorded run.

`live_training()` is the dashboard (one Section, page.py): device banner, settings, Train/Stop,
live charts (charts.py), results after a run (results.py), replay. The notes in measured.py insert
the lesson's measured figures from the files they were measured into.
"""
from widgets.views.live_training.measured import benchmarks, cpu_benchmark, recorded_crops, recorded_losses
from widgets.views.live_training.page import RECORDINGS, LiveTraining, live_training, replay_files

__all__ = ["LiveTraining", "live_training", "replay_files", "RECORDINGS", "cpu_benchmark", "recorded_losses",
           "recorded_crops", "benchmarks"]
