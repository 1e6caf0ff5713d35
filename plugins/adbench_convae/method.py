"""The ConvAE method: trains on normal images, scores by smoothed per-pixel squared error."""

from __future__ import annotations

from adbench import FitReport, Method, MethodConfig, TrainData


class ConvAEConfig(MethodConfig):
    """The reference autoencoder's hyper-parameters (README)."""

    width: int
    latent: int
    lr: float
    sigma: float
    topk: float


class ConvAE(Method):
    config_class = ConvAEConfig
    name = "convae"
    track = "unsupervised"
    tracks = ("unsupervised",)
    description = "Reference convolutional autoencoder (reconstruction error), proves the pipeline end to end"
    paper = "adbench reference baseline (no publication)"
    display_name = "ConvAE"
    profiles = {
        "smoke": dict(image_size=32, width=8, latent=16, epochs=2, batch_size=16, lr=2e-3,
                      sigma=1.0, topk=0.01),
        "quick": dict(image_size=64, width=32, latent=32, epochs=60, batch_size=16, lr=2e-3,
                      sigma=2.0, topk=0.01),
        "paper": dict(image_size=256, width=64, latent=128, epochs=200, batch_size=16, lr=1e-3,
                      sigma=4.0, topk=0.01),
    }

    def build_model(self):
        from .model import build_pipeline

        return build_pipeline(self.cfg)

    def fit(self, train: TrainData) -> FitReport:
        import torch

        from adbench.training import seed_everything, train_epochs

        gen = seed_everything(self.ctx.seed)
        normal = train.normal
        device = self.ctx.device
        model = self.model().to(device).train()
        images = normal.images.to(device)
        opt = torch.optim.Adam(model.parameters(), lr=self.cfg["lr"])

        def step(idx):
            x = model.normalize(images[idx])
            return torch.nn.functional.mse_loss(model.net(x), x)

        report = train_epochs(step, opt, len(normal), epochs=self.cfg["epochs"],
                              batch_size=self.cfg["batch_size"], gen=gen)
        model.eval()
        return report
