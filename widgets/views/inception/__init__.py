"""Lesson 4 sections: Table 1 reproduced from the model, the module explorer, the clickable network,
the 3x3/5x5 share per module, and the cost of the 144 test-time crops.

Every number shown comes from widgets.inception_stats (measured on widgets.googlenet.GoogLeNet, or a
closed form tested against torch's FLOP counter) and widgets.inception_analysis (what the page says
about it). The model is measured once per kernel (cached).

Every builder takes `lang=` ("en" or "zh"); the words are in widgets/views/locales/<lang>/inception.json,
the numbers are the same in every language (tests/test_zh_inception.py).
"""
from widgets.views.inception.explorer import CUSTOM, ModuleExplorer, module_explorer_view
from widgets.views.inception.network import NetworkExplorer, network_view
from widgets.views.inception.shares import BranchShareView, branch_share_view
from widgets.views.inception.table1 import Table1View, table1_view
from widgets.views.inception.testtime import TestTimeCost, test_time_view

__all__ = ["CUSTOM", "BranchShareView", "ModuleExplorer", "NetworkExplorer", "Table1View", "TestTimeCost",
           "branch_share_view", "module_explorer_view", "network_view", "table1_view", "test_time_view"]
