"""One training step of the matting network on the training engine, with an optional WGAN-GP critic."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from pipeline.models.matting import MattingBatch, MattingLossWeights, matting_losses
from pipeline.nn.critic import CriticConfig
from pipeline.training import adversarial_terms, Trainer

CRITIC = CriticConfig(in_channels=4)  # sees the image and an alpha


@dataclass(frozen=True)
class MattingObjective:
    weights: MattingLossWeights
    adversarial_weight: float  # 0: no critic
    penalty_every: int = 1  # the critic's gradient penalty every this many steps (lazy regularisation)

    @classmethod
    def from_params(cls, cfg) -> MattingObjective:
        """The objective the ``train_matting`` section ``cfg`` asks for."""
        weights = MattingLossWeights(alpha=cfg.loss_alpha, composition=cfg.loss_composition,
                                     foreground=cfg.loss_foreground, trimap=cfg.loss_trimap, gradient=cfg.loss_gradient)
        return cls(weights, cfg.adversarial_weight, cfg.penalty_every)

    def __call__(self, trainer: Trainer, batch: MattingBatch) -> dict[str, float]:
        model = trainer.modules["matting"]
        out = model(batch.image, batch.trimap, batch.guidance)
        losses = matting_losses(out, batch, self.weights)
        if self.adversarial_weight > 0:
            real = torch.cat([batch.image, batch.alpha], dim=1)
            fake = torch.cat([batch.image, out.alpha], dim=1)
            losses |= adversarial_terms(trainer, real, fake, batch.mix, self.penalty_every)
            losses["total"] = losses["total"] + self.adversarial_weight * losses["adversarial"]
        trainer.descend("matting", losses["total"])
        return {name: float(value.detach()) for name, value in losses.items()}
