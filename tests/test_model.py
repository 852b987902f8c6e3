"""The tutorial's Net and its stage probe."""

from __future__ import annotations

import torch

from cnn_tui.model import STAGES, Net, probe, state_dict_matches


def test_net_is_the_tutorials_layers_and_outputs_log_probabilities() -> None:
    net = Net()
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes == {
        "conv1.weight": (10, 1, 5, 5),
        "conv1.bias": (10,),
        "conv2.weight": (20, 10, 5, 5),
        "conv2.bias": (20,),
        "fc1.weight": (50, 320),
        "fc1.bias": (50,),
        "fc2.weight": (10, 50),
        "fc2.bias": (10,),
    }
    out = net.eval()(torch.randn(4, 1, 28, 28))
    assert out.shape == (4, 10)
    assert torch.allclose(out.exp().sum(1), torch.ones(4), atol=1e-5)


def test_probe_returns_every_stage_with_the_shapes_the_tutorial_names() -> None:
    torch.manual_seed(0)
    net = Net().train()
    x = torch.randn(3, 1, 28, 28)
    stages = probe(net, x)
    assert list(stages) == list(STAGES)
    for name, (_, shape) in STAGES.items():
        assert tuple(stages[name].shape) == (3, *shape), name
    assert net.training  # the probe restores the mode it found
    assert (stages["pool1"] >= 0).all() and (stages["fc1"] >= 0).all()  # after ReLU
    assert torch.equal(stages["flatten"], stages["pool2"].reshape(3, 320))
    with torch.no_grad():
        expected = net.eval()(x).exp()
    assert torch.allclose(stages["probs"], expected, atol=1e-6)  # same math as forward


def test_state_dict_check_names_what_does_not_fit() -> None:
    assert state_dict_matches(Net().state_dict()) is None
    state = Net().state_dict()
    state["fc1.weight"] = torch.zeros(64, 320)
    assert state_dict_matches(state) == "fc1.weight has shape (64, 320), expected (50, 320)"
    del state["fc2.bias"]
    assert "missing fc2.bias" in (state_dict_matches(state) or "")
