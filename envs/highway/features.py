"""The reward features of the Highway domain (OKB App. F.2; ENVIRONMENTS.md E.4).

φ(s, a, s') ∈ R^3, read from highway-env's ego vehicle after the step (s'):

- φ1 = normalised forward speed: speed·cos(heading) mapped linearly from ``reward_speed_range``
  ([20, 30] m/s) to [0, 1] and clipped, exactly highway-env's ``high_speed_reward``;
- φ2 = ``right_lane_value`` (0.5) if the vehicle is in the rightmost lane, else 0. The lane is
  the one the vehicle is in (``lane_index``), not the lane it steers to (``target_lane_index``,
  which highway-env's own ``right_lane_reward`` uses): App. F.2 says "driving in";
- φ3 = −1 if a ∈ {LANE_LEFT, LANE_RIGHT} (the paper's TURN_LEFT/TURN_RIGHT), else 0, whether or
  not the lane change happens (at the road's edge it does not);
- all three are 0 when the vehicle is off the road, and on a crash the penalty (−10) either
  replaces every feature (``crash_mode="set"``: r_w = −10 on the whole simplex) or is added to
  each (``"add"``); App. F.2's "penalized by −10" does not say which.
"""

from __future__ import annotations

import numpy as np
from highway_env import utils as hw_utils
from highway_env.road.road import Road
from highway_env.vehicle.kinematics import Vehicle

from envs.highway.config import N_FEATURES, HighwayConfig

__all__ = ["LANE_CHANGE_ACTIONS", "is_rightmost_lane", "reward_features"]

#: highway-env's DiscreteMetaAction indices of LANE_LEFT and LANE_RIGHT.
LANE_CHANGE_ACTIONS = (0, 2)


def is_rightmost_lane(vehicle: Vehicle, road: Road) -> bool:
    """True in the highest-index lane of the vehicle's road (highway-env numbers lanes left to right)."""
    n_lanes = len(road.network.all_side_lanes(vehicle.lane_index))
    return int(vehicle.lane_index[2]) == n_lanes - 1


def reward_features(vehicle: Vehicle, road: Road, action: int, config: HighwayConfig) -> np.ndarray:
    """φ(s, a, s') (float32, shape (3,)) for the ego ``vehicle`` after it took ``action``."""
    phi_D = np.zeros(N_FEATURES, dtype=np.float32)
    if vehicle.on_road:
        forward_speed = vehicle.speed * np.cos(vehicle.heading)
        phi_D[0] = np.clip(hw_utils.lmap(forward_speed, config.reward_speed_range, [0.0, 1.0]), 0.0, 1.0)
        phi_D[1] = config.right_lane_value if is_rightmost_lane(vehicle, road) else 0.0
        phi_D[2] = -1.0 if int(action) in LANE_CHANGE_ACTIONS else 0.0
    if vehicle.crashed:
        if config.crash_mode == "set":
            phi_D[:] = config.crash_penalty
        else:
            phi_D += np.float32(config.crash_penalty)
    return phi_D
