"""Fused per-slot scoring ``w_out · relu(W c_k + b(s)) + b_out`` with a hand-written backward.

The utility network of thesis Eq. 2.3 (as folded in
:meth:`rllib_modules.utility.module.UtilityRLModule.compute_logits`) ends in one hidden
ReLU layer evaluated for every slot: a ``(B, K, H)`` activation tensor, by far the largest
tensor of a PPO update. Autograd's generic backward for ``matmul -> relu -> baddbmm``
materialises two more ``(B, K, H)`` tensors (the broadcast product ``g_BK ⊗ w_out`` and
``threshold_backward``'s output) and reads them back; on a CPU Learner these memory-bound
passes are most of the module's cost.

Because the output layer is a single vector ``w_out``, every gradient factorises through
the ReLU's 0/1 pattern ``M = 1[h > 0]`` (``h = relu(z)``, ``z = W c + b``)::

    ∂L/∂z_bkh   = g_bk · w_out_h · M_bkh
    ∂L/∂b_bh    = w_out_h · Σ_k g_bk M_bkh             (a batched (1,K)x(K,H) product)
    ∂L/∂W_dh    = w_out_h · Σ_bk (g_bk c_bkd) M_bkh    (one (D, BK)x(BK, H) product)
    ∂L/∂w_out_h = Σ_bk g_bk h_bkh                       (one (1, BK)x(BK, H) product)

so the backward writes a single ``(B, K, H)`` tensor (``M``) and otherwise only reads ``h``
and ``M`` inside matrix products. Same function, same gradients as autograd (tested
against the literal concatenation form with ``torch.autograd.gradcheck``); about 1.5-2x
faster per update on CPU at the Grid World sizes (B=128, K=50, H=64; measured by the
throughput benchmark).
"""

from __future__ import annotations

from typing import Any

import torch

__all__ = ["relu_slot_scores"]


class _ReluSlotScores(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        c_BKD: torch.Tensor,
        w_DH: torch.Tensor,
        bias_BH: torch.Tensor,
        w_out_H: torch.Tensor,
        b_out_1: torch.Tensor,
    ) -> torch.Tensor:
        batch = c_BKD.shape[0]
        z_BKH = torch.baddbmm(bias_BH.unsqueeze(1), c_BKD, w_DH.unsqueeze(0).expand(batch, -1, -1))
        h_BKH = z_BKH.relu_()
        logits_BK = torch.matmul(h_BKH, w_out_H) + b_out_1
        ctx.save_for_backward(c_BKD, w_DH, h_BKH, w_out_H)
        return logits_BK

    @staticmethod
    def backward(ctx: Any, g_BK: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        c_BKD, w_DH, h_BKH, w_out_H = ctx.saved_tensors
        batch, slots, hidden = h_BKH.shape
        repr_dim = c_BKD.shape[-1]
        g_BK = g_BK.contiguous()
        # h >= 0, so sign(h) is the ReLU's derivative pattern (0 at z <= 0, as autograd's).
        m_BKH = torch.sign(h_BKH)
        grad_c = grad_w = grad_bias = grad_w_out = grad_b_out = None
        if ctx.needs_input_grad[1]:
            gc_ND = (g_BK.unsqueeze(-1) * c_BKD).reshape(batch * slots, repr_dim)
            grad_w = (gc_ND.t() @ m_BKH.reshape(batch * slots, hidden)) * w_out_H
        if ctx.needs_input_grad[2]:
            grad_bias = torch.bmm(g_BK.unsqueeze(1), m_BKH).squeeze(1) * w_out_H
        if ctx.needs_input_grad[3]:
            grad_w_out = g_BK.reshape(1, -1) @ h_BKH.reshape(batch * slots, hidden)
            grad_w_out = grad_w_out.squeeze(0)
        if ctx.needs_input_grad[4]:
            grad_b_out = g_BK.sum().reshape(1)
        if ctx.needs_input_grad[0]:  # representations are inputs (buffers) in actlab; kept for completeness
            grad_z_BKH = g_BK.unsqueeze(-1) * (m_BKH * w_out_H)
            grad_c = torch.matmul(grad_z_BKH, w_DH.t())
        return grad_c, grad_w, grad_bias, grad_w_out, grad_b_out


def relu_slot_scores(
    c_BKD: torch.Tensor, w_DH: torch.Tensor, bias_BH: torch.Tensor, w_out_H: torch.Tensor, b_out_1: torch.Tensor
) -> torch.Tensor:
    """``logits_BK = relu(c_BKD @ w_DH + bias_BH[:, None]) @ w_out_H + b_out_1``.

    Args:
        c_BKD: Slot representations ``(B, K, D)``.
        w_DH: Representation block of the hidden layer ``(D, H)`` (shared by all rows).
        bias_BH: Per-row hidden bias ``(B, H)`` (the state term of Eq. 2.3 plus biases).
        w_out_H: Output weights ``(H,)``.
        b_out_1: Output bias ``(1,)``.
    """
    return _ReluSlotScores.apply(c_BKD, w_DH, bias_BH, w_out_H, b_out_1)
