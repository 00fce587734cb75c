"""Masking of per-slot logits for action-set policies (thesis Ch.2 §2.4.2, Ch.3).

Action-set environments pad the available actions to ``max_actions`` slots and expose a
0/1 mask (``envs.common.action_set``). A policy over that padded set must give the
padded (unavailable) slots a probability of *exactly* zero, so that they are never
sampled and contribute nothing to the log-probability, entropy or KL that PPO computes.
"""

from __future__ import annotations

import torch

__all__ = ["masked_logits", "valid_slots"]


def valid_slots(mask_BK: torch.Tensor) -> torch.Tensor:
    """Boolean validity of each slot from the environment's float 0/1 mask.

    Thresholding at 0.5 (not ``!= 0``) keeps the result robust to a mask that went
    through a float conversion or an observation filter.
    """
    return mask_BK > 0.5


def masked_logits(logits_BK: torch.Tensor, mask_BK: torch.Tensor) -> torch.Tensor:
    """Replace the logits of unavailable slots by the most negative finite float.

    ``torch.finfo(dtype).min`` rather than ``-inf``: ``exp(finfo.min - m)`` underflows
    to exactly 0 for any finite valid logit ``m`` (so probabilities are exactly 0), while
    differences of two masked logits stay finite. ``-inf`` would give ``-inf - -inf =
    NaN`` in the KL of two masked distributions and in a fully-masked row.

    Guard: a row with no available slot (an environment bug, which must still not poison
    the loss) gets all-zero logits, i.e. an exactly uniform distribution with no gradient.
    Leaving it at ``finfo.min`` everywhere would be NaN-free but inconsistent:
    ``logsumexp`` rounds back to ``finfo.min``, so log-probabilities would come out as 0
    (probability 1 per slot) while the softmax is uniform.

    ``torch.where`` (not in-place ``masked_fill_``) keeps the gradient of the masked
    entries at exactly 0 without touching the utility network's output tensor.

    Args:
        logits_BK: Raw utilities ``(B, K)``.
        mask_BK: Float or bool availability mask ``(B, K)``; 1/True = available.

    Returns:
        Masked logits ``(B, K)``, same dtype as ``logits_BK``.
    """
    valid_BK = mask_BK if mask_BK.dtype == torch.bool else valid_slots(mask_BK)
    fill = torch.tensor(torch.finfo(logits_BK.dtype).min, dtype=logits_BK.dtype, device=logits_BK.device)
    out_BK = torch.where(valid_BK, logits_BK, fill)
    empty_B1 = ~valid_BK.any(dim=-1, keepdim=True)
    return torch.where(empty_B1, torch.zeros_like(out_BK), out_BK)
