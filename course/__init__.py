"""backprop-course: learn backpropagation by building it.

The reference implementation of every exercise, the layers and training loop built on it,
gradient checking, and offline datasets. Read it top to bottom:

    layers.py     the layer functions (forward and backward)      -> course.layers
    losses.py     losses and their gradients                      -> course.losses
    network.py    layer objects, Sequential, mlp()                -> course.network
    optim.py      SGD, momentum, RMSProp, Adam                    -> course.optim
    schedules.py  learning-rate schedules                         -> course.schedules
    train.py      fit() and History                               -> course.train
    gradcheck.py  numerical gradients and gradient checks         -> course.gradcheck
    datasets.py   spirals, moons, digits, ...                     -> course.datasets
The experiments behind the figures (course.experiments: training runs, the optimizer race,
gradient norms), the figures (course.plots), the widgets (course.widgets), learner checks
(course.checks) and grading (course.grading) sit on top of these and are imported on their own.
"""

from course.datasets import (
    load_digits,
    make_circles,
    make_moons,
    make_regression_1d,
    make_spirals,
    make_xor,
    standardize,
    train_test_split,
)
from course.gradcheck import (
    GradcheckReport,
    check_network,
    check_vjp,
    fast_check,
    numerical_gradient,
    relative_error,
)
from course.layers import (
    batchnorm_backward,
    batchnorm_forward,
    dropout_backward,
    dropout_forward,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from course.losses import MSELoss, SoftmaxCrossEntropy, mse_loss, softmax, softmax_cross_entropy
from course.network import (
    BatchNorm1d,
    Dropout,
    Layer,
    Linear,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    mlp,
)
from course.optim import (
    SGD,
    Adam,
    Momentum,
    Optimizer,
    RMSProp,
    adam_step,
    momentum_step,
    rmsprop_step,
    sgd_step,
)
from course.schedules import CosineLR, ExponentialLR, StepLR, Warmup
from course.train import History, accuracy, fit

__version__ = "0.1.0"

__all__ = [
    "Adam", "BatchNorm1d", "CosineLR", "Dropout", "ExponentialLR", "GradcheckReport", "History",
    "Layer", "Linear", "MSELoss", "Momentum", "Optimizer", "Parameter", "RMSProp", "ReLU", "SGD",
    "Sequential", "Sigmoid", "SoftmaxCrossEntropy", "StepLR", "Tanh", "Warmup", "accuracy",
    "adam_step", "batchnorm_backward", "batchnorm_forward", "check_network", "check_vjp",
    "dropout_backward", "dropout_forward", "fast_check", "fit", "linear_backward",
    "linear_forward", "load_digits", "make_circles", "make_moons", "make_regression_1d",
    "make_spirals", "make_xor", "mlp", "momentum_step", "mse_loss", "numerical_gradient",
    "relative_error", "relu_backward", "relu_forward", "rmsprop_step", "sgd_step",
    "sigmoid_backward", "sigmoid_forward", "softmax", "softmax_cross_entropy", "standardize",
    "tanh_backward", "tanh_forward", "train_test_split",
]
