"""Method packages (RLModules, configs, builders). Importing this package registers all of
them in :mod:`actlab.registry` (via ``actlab.registry.load_plugins``).

Add a new method by creating ``rllib_modules/<name>/`` whose ``__init__`` calls
``register_algorithm`` and importing it below.
"""

from rllib_modules import utility  # noqa: F401  (registers "utility-ppo")
from rllib_modules import baselines_ch2  # noqa: F401  (registers "nearest-neighbor", "continuous-output")
from rllib_modules import td3  # noqa: F401  (registers "td3")
from rllib_modules import savo  # noqa: F401  (registers "savo")
from rllib_modules import td3_variants  # noqa: F401  (registers the other Ch.4 baselines and savo-joint)
from rllib_modules import sac  # noqa: F401  (registers "sac")
from rllib_modules import dqn  # noqa: F401  (registers "dqn")
from rllib_modules import okb  # noqa: F401  (registers "okb", "okb-uniform", "sfols", "sip", "gpi")
