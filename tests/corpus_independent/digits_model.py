"""10 capstone: check_digits_model(model) takes a trained Sequential (>= 95 % held-out accuracy).

Here each case is a factory building the argument a learner would pass.
"""

import numpy as np

from ._registry import right, wrong

EX = "digits_model"


def _train_split():
    from course import load_digits, train_test_split

    x_tr, _x_te, y_tr, _y_te = train_test_split(*load_digits(), test_fraction=0.2, seed=0)
    return x_tr, y_tr


@wrong(EX, "accuracy", "model built but never trained",
       ("not trained", "untrained", "train it", "fit(", "chance", "random guess", "train the model",
        "trained?", "training"), factory=True)
def digits_untrained():
    from course import mlp

    return mlp([64, 64, 10], rng=0)


@wrong(EX, ("model", "input", "accuracy"), "model expects 2 input features instead of 64",
       ("64", "in_features", "features", "input size", "input shape"), factory=True)
def digits_wrong_inputs():
    from course import mlp

    return mlp([2, 64, 10], rng=0)


@wrong(EX, ("accuracy", "model", "output"), "model has 5 outputs instead of 10 classes",
       ("10 classes", "classes", "output size", "outputs", "out_features"), factory=True)
def digits_wrong_classes():
    from course import mlp

    return mlp([64, 32, 5], rng=0)


@wrong(EX, "model", "passes the History returned by fit instead of the model",
       ("history", "sequential", "not a model", "predict", "type"), factory=True)
def digits_history():
    from course import SGD, SoftmaxCrossEntropy, fit, mlp

    x, y = _train_split()
    model = mlp([64, 32, 10], rng=0)
    return fit(model, SoftmaxCrossEntropy(), SGD(model.parameters(), 0.1), x[:64], y[:64],
               epochs=1, batch_size=32)


@wrong(EX, "model", "passes model.predict (a function) instead of the model",
       ("sequential", "not a model", "function", "callable", "type", "predict method"),
       factory=True)
def digits_predict_fn():
    from course import mlp

    return mlp([64, 32, 10], rng=0).predict


@right(EX, factory=True)
def digits_right_adam():
    from course import Adam, SoftmaxCrossEntropy, fit, mlp

    x, y = _train_split()
    model = mlp([64, 128, 10], rng=0)
    fit(model, SoftmaxCrossEntropy(), Adam(model.parameters(), 3e-3), x, y, epochs=25,
        batch_size=32, rng=0)
    model.eval()
    assert np.isfinite(x).all()
    return model
