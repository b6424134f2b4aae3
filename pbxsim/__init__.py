"""pbxsim: a protocol-faithful Asterisk 22 stand-in (AMI server + FastAGI client).

See pbxsim/STATUS.md for what is simulated and how to drive it.
"""

from pbxsim.callers import CallerScript, SimCall
from pbxsim.core import PbxSim
from pbxsim.phones import PhoneBehaviour

__all__ = ["CallerScript", "PbxSim", "PhoneBehaviour", "SimCall"]
