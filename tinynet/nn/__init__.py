"""Layers and models (PyTorch's ``torch.nn``)."""

from tinynet.nn import functional, init
from tinynet.nn.containers import ModuleDict, ModuleList, Sequential
from tinynet.nn.conv import (
    AtrousPyramid,
    Conv1d,
    Conv2d,
    ConvTranspose1d,
    ConvTranspose2d,
    DepthwiseSeparableConv2d,
)
from tinynet.nn.layers import (
    Dropout,
    Dropout2d,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinynet.nn.loss import BCEWithLogitsLoss, CrossEntropyLoss, DiceLoss, L1Loss, MSELoss, NLLLoss
from tinynet.nn.module import Module, Parameter
from tinynet.nn.normalization import BatchNorm1d, BatchNorm2d
from tinynet.nn.pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d, MaxUnpool2d
from tinynet.nn.upsampling import PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
