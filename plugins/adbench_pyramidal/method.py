"""``pyramidal_ae`` (Mishra et al. 2020a) and ``piade`` (Mishra et al. 2020b)."""

from __future__ import annotations

from typing import Any

from adbench import FitReport, Method, TrainData

_LOSS = dict(w_mse=1.0, w_ssim=1.0, w_perceptual=1.0)


class _ReconstructionMethod(Method):
    track = "unsupervised"
    tracks = ("unsupervised",)

    def build_model(self):
        from adbench.layers import MapScorer

        from .perceptual import PerceptualNet
        from .pipeline import ReconstructionScorer

        perceptual = PerceptualNet(prefer_pretrained=self.cfg["perceptual_pretrained"], seed=0)
        return ReconstructionScorer(self.build_net(), MapScorer(self.cfg["sigma"], self.cfg["topk"]),
                                           perceptual, self.cfg["score"])

    def build_net(self):
        raise NotImplementedError

    def fit(self, train: TrainData) -> FitReport:
        from .training import fit_reconstruction

        return fit_reconstruction(self.model(), train, self.cfg, self.ctx)


class PyramidalAEMethod(_ReconstructionMethod):
    name = "pyramidal_ae"
    description = "Deep pyramidal stacked autoencoder with perceptual loss (Mishra et al. 2020a) [architecture inferred]"
    paper = "Mishra, Piciarelli, Foresti, ICPR 2020 Workshops, LNCS, doi:10.1007/978-3-030-68799-1_51"
    profiles = {
        "smoke": dict(_LOSS, image_size=32, levels=3, width=8, latent=8, code=16, grid=4, lr=2e-3, weight_decay=0.0,
                      batch_size=16, epochs=2, sigma=1.0, topk=0.01, score="map_topk",
                      perceptual_pretrained=False, augment=False),
        "quick": dict(_LOSS, image_size=64, levels=4, width=32, latent=16, code=32, grid=8, lr=2e-3,
                      weight_decay=0.0, batch_size=16, epochs=40, sigma=2.0, topk=0.01,
                      score="map_topk", perceptual_pretrained=True, augment=False),
        "paper": dict(_LOSS, image_size=128, levels=4, width=64, latent=32, code=64, grid=8, lr=1e-3,
                      weight_decay=1e-3, batch_size=60, epochs=400, sigma=4.0, topk=0.01,
                      score="mse_ssim_perceptual", perceptual_pretrained=True, augment=False),
    }

    def build_net(self):
        from .nets import PyramidalAE

        c = self.cfg
        return PyramidalAE(self.input_size, c["levels"], c["width"], c["latent"], c["code"], c["grid"])


class PIADEMethod(_ReconstructionMethod):
    name = "piade"
    description = "PIADE: SE-ResNet pyramid pooling + dynamic routing autoencoder (Mishra et al. 2020b)"
    paper = "Mishra, Piciarelli, Foresti, 'Image anomaly detection by aggregating deep pyramidal representations', IJNS 2020"
    profiles = {
        "smoke": dict(_LOSS, image_size=32, depth=18, iterations=3, caps_dim=16, fc=[32, 64], dec_channels=[8, 8, 8],
                      lr=1e-3, weight_decay=0.0, batch_size=16, epochs=2, sigma=1.0, topk=0.01,
                      score="map_topk", perceptual_pretrained=False, augment=False),
        "quick": dict(_LOSS, image_size=64, depth=18, iterations=3, caps_dim=64, fc=[128, 512],
                      dec_channels=[64, 32, 32], lr=1e-3, weight_decay=0.0, batch_size=16, epochs=20,
                      sigma=2.0, topk=0.01, score="map_topk", perceptual_pretrained=True,
                      augment=False),
        "paper": dict(_LOSS, image_size=120, depth=50, iterations=3, caps_dim=64, fc=[128, 512],
                      dec_channels=[16, 32, 32], lr=1e-3, weight_decay=1e-3, batch_size=60, epochs=400,
                      sigma=4.0, topk=0.01, score="mse_ssim_perceptual",
                      perceptual_pretrained=True, augment=False),
    }

    def build_net(self):
        from .nets import PIADENet

        c = self.cfg
        return PIADENet(self.input_size, c["depth"], c["iterations"], 2, c["caps_dim"], tuple(c["fc"]),
                        tuple(c["dec_channels"]))
