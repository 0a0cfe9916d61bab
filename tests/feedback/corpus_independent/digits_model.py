"""12 capstone: check_digits_model(model) takes the learner's own trained network (>= 95 %
accuracy on the held-back digits with a little noise; no calls into course's library).

Here each case is a factory building the argument a learner would pass: a small NumPy network
written the way the capstone asks (its own layers, loss and update), or a mistake with it.
"""

import numpy as np

from ._registry import right, wrong

EX = "digits_model"


class OwnNet:
    """A learner's network: ReLU MLP, softmax cross-entropy, plain minibatch SGD."""

    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = []
        for d, m in zip(sizes[:-1], sizes[1:], strict=True):
            self.params += [rng.normal(0, np.sqrt(2 / d), (d, m)), np.zeros(m)]

    def forward(self, x):
        self.cache = []
        h = x
        k_last = len(self.params) // 2 - 1
        for k in range(k_last + 1):
            z = h @ self.params[2 * k] + self.params[2 * k + 1]
            self.cache.append((h, z))
            h = np.maximum(z, 0) if k < k_last else z
        return h

    def fit(self, x, y, lr=0.1, epochs=30, batch=32, seed=0):
        rng = np.random.default_rng(seed)
        for _ in range(epochs):
            order = rng.permutation(len(x))
            for s in range(0, len(x), batch):
                i = order[s:s + batch]
                scores = self.forward(x[i])
                p = np.exp(scores - scores.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                p[np.arange(len(i)), y[i]] -= 1
                d = p / len(i)
                for k in reversed(range(len(self.params) // 2)):
                    h, z = self.cache[k]
                    if k < len(self.params) // 2 - 1:
                        d = d * (z > 0)
                    W = self.params[2 * k]
                    self.params[2 * k] = W - lr * h.T @ d
                    self.params[2 * k + 1] = self.params[2 * k + 1] - lr * d.sum(0)
                    d = d @ W.T
        return self


def _development():
    from course import load_digits

    return load_digits(split="development")


@wrong(EX, "accuracy", "network built but never trained",
       ("not trained", "untrained", "train it", "chance", "random guess", "train the model",
        "trained?", "training"), factory=True)
def digits_untrained():
    return OwnNet([64, 64, 10])


@wrong(EX, ("model", "input", "accuracy"), "network expects 2 input features instead of 64",
       ("64", "in_features", "features", "input size", "input shape"), factory=True)
def digits_wrong_inputs():
    return OwnNet([2, 64, 10])


@wrong(EX, ("accuracy", "model", "output"), "network has 5 outputs instead of 10 classes",
       ("10 classes", "classes", "output size", "outputs", "out_features"), factory=True)
def digits_wrong_classes():
    return OwnNet([64, 32, 5])


@wrong(EX, "model", "passes the list of losses instead of the network",
       ("network", "not a model", "forward", "type", "list"), factory=True)
def digits_losses():
    return [2.3, 1.1, 0.6]


@wrong(EX, ("model", "scores"), "passes a function that predicts labels instead of scores",
       ("predict", "labels", "scores", "network itself"), factory=True)
def digits_predict_fn():
    x, y = _development()
    net = OwnNet([64, 64, 10]).fit(x, y, epochs=10)
    return lambda images: net.forward(images).argmax(axis=1)


@wrong(EX, "model", "uses course's library (mlp and fit) instead of the learner's own code",
       ("library", "your own", "own functions", "course.network", "yours"), factory=True)
def digits_course_library():
    from course import Adam, SoftmaxCrossEntropy, fit, mlp

    x, y = _development()
    model = mlp([64, 128, 10], rng=0)
    fit(model, SoftmaxCrossEntropy(), Adam(model.parameters(), 3e-3), x, y, epochs=20,
        batch_size=32, rng=0)
    return model


@wrong(EX, "model", "wraps course's layers in a class of its own",
       ("library", "your own", "own functions", "course.", "yours"), factory=True)
def digits_wrapped_library():
    from course import Linear, ReLU

    class Wrapper:
        def __init__(self):
            rng = np.random.default_rng(0)
            self.layers = [Linear(64, 32, rng=rng), ReLU(), Linear(32, 10, rng=rng)]

        def forward(self, x):
            for layer in self.layers:
                x = layer.forward(x)
            return x

    return Wrapper()


@right(EX, factory=True)
def digits_right_own_sgd():
    x, y = _development()
    net = OwnNet([64, 128, 10]).fit(x, y, lr=0.2, epochs=40)
    assert np.isfinite(x).all()
    return net
