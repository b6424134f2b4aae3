"""Moved to core.login_throttle; this alias is kept for one release (remove in the next).

The alias is the module itself (``sys.modules``), so old code that
imports or monkeypatches the old name reaches the same module object.
"""

import sys

import core.login_throttle as _m

sys.modules[__name__] = _m
