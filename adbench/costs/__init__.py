"""Cost profiling of a method's whole inference pipeline (DESIGN §8)."""

from .profile import profile_method, profile_model

__all__ = ["profile_method", "profile_model"]
