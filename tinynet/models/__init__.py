"""Ready-made models."""

from tinynet.models.encoder_decoder import UPSAMPLE_MODES, EncoderDecoder

__all__ = ["EncoderDecoder", "UPSAMPLE_MODES"]
