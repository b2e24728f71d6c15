"""Lesson 2, Batch Normalization: one Section per part (a-g, and the sweeps) of notebooks/02_batch_norm.ipynb.

Every number shown comes from widgets.batchnorm or widgets.bn_training, and every sentence that
depends on those numbers from widgets.bn_analysis. The notebook's cells import the builders
from here: `from widgets.views.batch_norm import forward_section`.
"""
from widgets.views.batch_norm.backprop import Backprop, backprop_section
from widgets.views.batch_norm.forward import ForwardPass, forward_section
from widgets.views.batch_norm.inference import InferenceStats, inference_section
from widgets.views.batch_norm.noise import BatchNoise, batch_noise_section
from widgets.views.batch_norm.rescaling import Rescaling, rescaling_section
from widgets.views.batch_norm.sweeps import Sweeps, sweeps_section
from widgets.views.batch_norm.shift import CovariateShift, covariate_shift_section
from widgets.views.batch_norm.training import Training, training_section

__all__ = ["forward_section", "rescaling_section", "backprop_section", "batch_noise_section", "inference_section",
           "training_section", "sweeps_section", "covariate_shift_section"]
